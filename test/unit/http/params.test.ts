import { describe, expect, it } from "vitest";
import { calendarDateSchema, decimalIdSchema, decimalInt } from "../../../lib/http/params.ts";

describe("decimalInt", () => {
  const limit = decimalInt({ min: 1, max: 100 });

  it.each(["1", "42", "100", "007"])("takes the decimal %s", (text) => {
    expect(limit.parse(text)).toBe(Number(text));
  });

  it.each(["0x10", "1e1", " 1", "1 ", "+1", "1.0", "", "1_0", "０１", "Infinity"])("refuses %j, which Number() would have taken or bent", (text) => {
    expect(limit.safeParse(text).success).toBe(false);
  });

  it("keeps its bounds: 0 and 101 are refused", () => {
    expect(limit.safeParse("0").success).toBe(false);
    expect(limit.safeParse("101").success).toBe(false);
  });

  it("takes a leading - only where negatives are allowed", () => {
    expect(decimalInt({ min: -10, max: 10 }).parse("-3")).toBe(-3);
    expect(decimalIdSchema.safeParse("-3").success).toBe(false);
  });

  it("refuses an id beyond what a number keeps exactly", () => {
    expect(decimalIdSchema.safeParse("9007199254740992").success).toBe(false);
    expect(decimalIdSchema.safeParse("99999999999999999999").success).toBe(false);
    expect(decimalIdSchema.parse("9007199254740991")).toBe(9007199254740991);
  });
});

describe("calendarDateSchema", () => {
  it.each(["2026-13-45", "2026-02-30", "2025-02-29", "2026-1-01", "20260101"])("refuses %s", (text) => {
    expect(calendarDateSchema.safeParse(text).success).toBe(false);
  });

  it.each(["2026-12-03", "2024-02-29"])("takes %s", (text) => {
    expect(calendarDateSchema.parse(text)).toBe(text);
  });
});
