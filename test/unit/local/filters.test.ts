import { describe, expect, it } from "vitest";
import { matchesPattern, passesFilters } from "../../../local/pollers/filters.ts";

describe("event filters", () => {
  const record = { eventName: "MODIFY", dynamodb: { NewImage: { status: { S: "FAILED" } } } };
  it("matches a leaf against its list of values", () => {
    expect(matchesPattern(record, { eventName: ["INSERT", "MODIFY"] })).toBe(true);
    expect(matchesPattern(record, { eventName: ["REMOVE"] })).toBe(false);
  });
  it("recurses into nested keys and needs every key present", () => {
    expect(matchesPattern(record, { dynamodb: { NewImage: { status: { S: ["FAILED"] } } } })).toBe(true);
    expect(matchesPattern(record, { dynamodb: { OldImage: { status: { S: ["FAILED"] } } } })).toBe(false);
  });
  it("lets everything through without patterns, and a record through when any pattern matches", () => {
    expect(passesFilters(record, [])).toBe(true);
    expect(passesFilters(record, [{ eventName: ["REMOVE"] }, { eventName: ["MODIFY"] }])).toBe(true);
    expect(passesFilters(record, [{ eventName: ["REMOVE"] }])).toBe(false);
  });
});
