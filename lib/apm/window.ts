/**
 * The retention window of an APM app: the probe instances that count are those last seen within
 * it. bk-monitor computes it twice (local and UTC filter params) and the two disagreed around
 * midnight and DST changes; here it is epoch milliseconds only, so the machine's time zone cannot
 * enter: a day is 86,400,000 ms, the start is exactly `retention_days` days before now, and both
 * ends are included.
 */
import type { RetentionWindow } from "./schemas.ts";

export const DAY_MS = 86_400_000;

export function retentionWindow(nowMs: number, retentionDays: number): RetentionWindow {
  const startMs = nowMs - retentionDays * DAY_MS;
  return {
    start_ms: startMs,
    end_ms: nowMs,
    // toISOString is always UTC with a `Z`, whatever TZ says.
    start: new Date(startMs).toISOString(),
    end: new Date(nowMs).toISOString(),
    retention_days: retentionDays,
  };
}

/** Whether an instance last seen at `lastSeenMs` is inside the window (both ends included). */
export const inWindow = (window: RetentionWindow, lastSeenMs: number): boolean => lastSeenMs >= window.start_ms && lastSeenMs <= window.end_ms;
