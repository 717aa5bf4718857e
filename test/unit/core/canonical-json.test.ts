import { describe, expect, it } from "vitest";
import { canonicalJson } from "../../../lib/core/canonical-json.ts";

describe("canonicalJson", () => {
  it("writes the same text for objects that differ only in key order, at any depth", () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: "s" } })).toBe(canonicalJson({ a: { c: "s", d: [1, { x: 1, y: 2 }] }, b: 1 }));
    expect(canonicalJson({ b: 1, a: 2 })).toBe('{"a":2,"b":1}');
  });

  it("keeps array order and tells different values apart", () => {
    expect(canonicalJson([1, 2])).not.toBe(canonicalJson([2, 1]));
    expect(canonicalJson({ a: "1" })).not.toBe(canonicalJson({ a: 1 }));
    expect(canonicalJson(null)).toBe("null");
  });
});
