import type { FilterPattern } from "../../lib/wiring.ts";

/**
 * Lambda's event filtering, for the subset the wiring uses: every key of the pattern must be in
 * the record, nested objects recurse, and a list at a leaf holds the values that match.
 */
export function matchesPattern(record: unknown, pattern: FilterPattern): boolean {
  if (record === null || typeof record !== "object") return false;
  const fields = record as Record<string, unknown>;
  return Object.entries(pattern).every(([key, expected]) => {
    const value = fields[key];
    return Array.isArray(expected) ? expected.includes(value as string | number | boolean) : matchesPattern(value, expected as FilterPattern);
  });
}

/** No patterns: everything passes; otherwise a record passes when any pattern matches. */
export const passesFilters = (record: unknown, patterns: readonly FilterPattern[]): boolean =>
  patterns.length === 0 || patterns.some((pattern) => matchesPattern(record, pattern));
