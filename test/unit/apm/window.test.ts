/**
 * The retention window is computed in UTC whatever the machine's zone: this file runs under
 * America/New_York (set before any date is made), across a UTC day boundary and a DST change.
 */
process.env.TZ = "America/New_York";

import { describe, expect, it } from "vitest";
import { DAY_MS, inWindow, retentionWindow } from "../../../lib/apm/window.ts";

describe("retentionWindow under a non-UTC TZ", () => {
  it("really runs in New York time (the test would prove nothing in UTC)", () => {
    expect(new Date("2026-01-15T12:00:00Z").getTimezoneOffset()).toBe(300);
    expect(new Date("2026-07-15T12:00:00Z").getTimezoneOffset()).toBe(240);
  });

  it("gives start and end as epoch ms and ISO-8601 with Z, exactly retention_days × 24 h apart", () => {
    const now = Date.UTC(2026, 10, 25, 15, 30, 0, 123);
    const w = retentionWindow(now, 7);
    expect(w).toEqual({ start_ms: now - 7 * DAY_MS, end_ms: now, start: "2026-11-18T15:30:00.123Z", end: "2026-11-25T15:30:00.123Z", retention_days: 7 });
  });

  it("is not shifted by a UTC day boundary that is still 'yesterday' in local time", () => {
    // 00:00:30 UTC on 9 March is 19:00:30 on 8 March in New York.
    const now = Date.UTC(2026, 2, 9, 0, 0, 30);
    expect(new Date(now).getDate()).toBe(8);
    const w = retentionWindow(now, 1);
    expect(w.start).toBe("2026-03-08T00:00:30.000Z");
    expect(w.end).toBe("2026-03-09T00:00:30.000Z");
  });

  it("spans 24 real hours across the spring-forward DST change (a local-calendar day there is 23 h)", () => {
    // DST starts 8 March 2026 at 02:00 local (07:00 UTC); noon UTC that day is 08:00 EDT.
    const now = Date.UTC(2026, 2, 8, 12, 0, 0);
    const w = retentionWindow(now, 1);
    expect(w.end_ms - w.start_ms).toBe(86_400_000);
    expect(w.start).toBe("2026-03-07T12:00:00.000Z");
    // The same local wall-clock time a calendar day earlier would be 23 h back: not what we use.
    const localDayBefore = new Date(now);
    localDayBefore.setDate(localDayBefore.getDate() - 1);
    expect(now - localDayBefore.getTime()).toBe(23 * 3_600_000);
    expect(w.start_ms).not.toBe(localDayBefore.getTime());
  });

  it("includes both ends and nothing past them", () => {
    const w = retentionWindow(Date.UTC(2026, 10, 1, 5, 0, 0), 3);
    expect(inWindow(w, w.start_ms)).toBe(true);
    expect(inWindow(w, w.end_ms)).toBe(true);
    expect(inWindow(w, w.start_ms - 1)).toBe(false);
    expect(inWindow(w, w.end_ms + 1)).toBe(false);
  });
});
