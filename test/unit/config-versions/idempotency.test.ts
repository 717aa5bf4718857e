import { describe, expect, it } from "vitest";
import { dedupedByBody, requestHash } from "../../../lib/config-versions/idempotency.ts";

describe("dedupedByBody", () => {
  it("deduplicates allocating adds with content, not bk-monitor's allocate-only add_route or any other change", () => {
    expect(dedupedByBody("add_streamto", { metadata: { plat_name: "p" } })).toBe(true);
    expect(dedupedByBody("add_route", { metadata: { plat_name: "p" }, route: [{ name: "r" }] })).toBe(true);
    expect(dedupedByBody("add_route", { metadata: { plat_name: "p" } })).toBe(false);
    expect(dedupedByBody("add_route", { metadata: { plat_name: "p", channel_id: 5 }, route: [{ name: "r" }] })).toBe(false);
    expect(dedupedByBody("update_route", {})).toBe(false);
  });
});

describe("requestHash", () => {
  it("ignores key order but not values or the operation", () => {
    expect(requestHash("add_streamto", { a: 1, b: { c: 2, d: 3 } })).toBe(requestHash("add_streamto", { b: { d: 3, c: 2 }, a: 1 }));
    expect(requestHash("add_streamto", { a: 1 })).not.toBe(requestHash("add_streamto", { a: 2 }));
    expect(requestHash("add_streamto", { a: 1 })).not.toBe(requestHash("add_route", { a: 1 }));
  });
});
