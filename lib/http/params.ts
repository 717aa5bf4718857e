/**
 * Path and query parameters that are numbers: one parser for all of them. `z.coerce.number()`
 * took whatever Number() takes (`0x10` as 16, `1e3` as 1000, ` 1` as 1, `""` as 0), so one object
 * had many names; here only plain decimal digits are a number, anything else is a 400 naming the
 * parameter. Dates in query parameters are real calendar days, not any four-two-two digits.
 */
import * as z from "zod";

/** Digits, with a sign where negatives are allowed; 16 digits cover every safe integer. */
const DECIMAL = /^-?\d{1,16}$/;
const UNSIGNED_DECIMAL = /^\d{1,16}$/;

/**
 * A whole number from `min` to `max`, written in decimal (`42`; not `0x2a`, `4.2e1`, ` 42` or `+42`);
 * `fallback` when the parameter is absent. The OpenAPI document shows it as the integer it is.
 */
export function decimalInt(bounds: { readonly min: number; readonly max: number }): DecimalInt;
export function decimalInt(bounds: { readonly min: number; readonly max: number; readonly fallback: number }): z.ZodPrefault<DecimalInt>;
export function decimalInt(bounds: { readonly min: number; readonly max: number; readonly fallback?: number }): DecimalInt | z.ZodPrefault<DecimalInt> {
  const pattern = bounds.min < 0 ? DECIMAL : UNSIGNED_DECIMAL;
  const schema = z
    .string()
    .regex(pattern, `must be a whole number in decimal digits${bounds.min < 0 ? " (a leading - for negatives)" : ""}`)
    .transform(Number)
    .pipe(z.int().min(bounds.min).max(bounds.max));
  const shown = { type: "integer", minimum: bounds.min, maximum: bounds.max } as const;
  if (bounds.fallback === undefined) return schema.meta(shown);
  // A prefault is parsed like a value sent, so the document shows it as the wire carries it.
  return schema.prefault(String(bounds.fallback)).meta(shown);
}

type DecimalInt = z.ZodPipe<z.ZodPipe<z.ZodString, z.ZodTransform<number, string>>, z.ZodNumber>;

/** A positive id in a path (`/v1/configs/route/{id}`). */
export const decimalIdSchema = decimalInt({ min: 1, max: Number.MAX_SAFE_INTEGER });

/** A version number in a path or query (0 is what GSE held before us). */
export const decimalVersionSchema = decimalInt({ min: 0, max: Number.MAX_SAFE_INTEGER });

/** `YYYY-MM-DD`, a day that exists (no 2026-13-45, no 2026-02-30). */
export const calendarDateSchema = z.iso.date();
