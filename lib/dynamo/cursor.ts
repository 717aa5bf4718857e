/**
 * The one cursor codec of every listing: an opaque base64url of JSON that only decodes to the
 * shape the listing gave out. A cursor of any other shape is the caller's error, never a 500.
 */
import * as z from "zod";
import { ValidationError } from "../core/errors.ts";

export interface Page<T> {
  readonly items: T[];
  readonly cursor: string | undefined;
}

export const encodeCursor = (value: unknown): string => Buffer.from(JSON.stringify(value), "utf8").toString("base64url");

export function decodeCursor<S extends z.ZodType>(schema: S, cursor: string): z.infer<S> {
  try {
    const parsed = schema.safeParse(JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")));
    if (parsed.success) return parsed.data;
  } catch {
    // Falls through to the same answer as a cursor of the wrong shape.
  }
  throw new ValidationError([{ path: "cursor", message: "not a cursor this API returned" }]);
}

/** A DynamoDB LastEvaluatedKey as a cursor; none when the listing is complete. */
export const encodeKeyCursor = (key: Record<string, unknown> | undefined): string | undefined => (key ? encodeCursor(key) : undefined);

/** A cursor is ours only if it decodes to a key of the partition asked for. */
export const decodeKeyCursor = (cursor: string | undefined, pk: string): Record<string, unknown> | undefined =>
  cursor === undefined ? undefined : decodeCursor(z.object({ pk: z.literal(pk), sk: z.string() }), cursor);
