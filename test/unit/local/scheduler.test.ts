import { describe, expect, it } from "vitest";
import { scheduledEvent, startScheduler, type Timers } from "../../../local/scheduler.ts";
import type { Schedule } from "../../../lib/wiring.ts";

/** A clock the test moves by hand: timers fire only when advance() passes their time. */
function manualTimers(start: number) {
  let now = start;
  let seq = 0;
  const pending = new Map<number, { at: number; fn: () => void }>();
  const timers: Timers = {
    now: () => now,
    setTimeout: (fn, ms) => {
      pending.set(++seq, { at: now + ms, fn });
      return seq;
    },
    clearTimeout: (handle) => void pending.delete(handle as number),
  };
  const advance = async (ms: number): Promise<void> => {
    const target = now + ms;
    for (;;) {
      const next = [...pending.entries()].filter(([, t]) => t.at <= target).sort((a, b) => a[1].at - b[1].at)[0];
      if (!next) break;
      pending.delete(next[0]);
      now = next[1].at;
      next[1].fn();
      // Let the run that fired settle before the clock moves on, as real time would.
      await new Promise((resolve) => setImmediate(resolve));
    }
    now = target;
  };
  return { timers, advance };
}

const heartbeat: Schedule = { name: "heartbeat", function: "health", everyMinutes: 1 };

describe("startScheduler", () => {
  it("fires on each minute boundary with an EventBridge scheduled event", async () => {
    const { timers, advance } = manualTimers(Date.UTC(2026, 10, 25, 10, 0, 30));
    const times: string[] = [];
    const scheduler = startScheduler({
      schedules: [heartbeat],
      timers,
      invoke: async (_s, event) => {
        times.push(event.time);
        expect(event["detail-type"]).toBe("Scheduled Event");
        expect(event.source).toBe("aws.events");
      },
    });
    await advance(29_000);
    expect(times).toEqual([]);
    await advance(2 * 60_000);
    expect(times).toEqual(["2026-11-25T10:01:00Z", "2026-11-25T10:02:00Z"]);
    scheduler.stop();
    await advance(5 * 60_000);
    expect(times).toHaveLength(2);
  });

  it("skips a run while the previous one is still going instead of doubling up", async () => {
    const { timers, advance } = manualTimers(Date.UTC(2026, 10, 25, 10, 0, 0));
    let release: () => void = () => undefined;
    let runs = 0;
    const skipped: string[] = [];
    const scheduler = startScheduler({
      schedules: [heartbeat],
      timers,
      invoke: () => {
        runs++;
        return new Promise<void>((resolve) => (release = resolve));
      },
      onSkip: (s) => skipped.push(s.name),
    });
    await advance(60_000);
    await advance(60_000);
    expect(runs).toBe(1);
    expect(skipped).toEqual(["heartbeat"]);
    release();
    await new Promise((r) => setImmediate(r));
    await advance(60_000);
    expect(runs).toBe(2);
    scheduler.stop();
  });

  it("reports a failed run and keeps the schedule going", async () => {
    const { timers, advance } = manualTimers(Date.UTC(2026, 10, 25, 10, 0, 0));
    const outcomes: unknown[] = [];
    const scheduler = startScheduler({
      schedules: [heartbeat],
      timers,
      invoke: async () => {
        throw new Error("GSE down");
      },
      onRun: (_s, { error }) => outcomes.push(error),
    });
    await advance(60_000);
    await new Promise((r) => setImmediate(r));
    await advance(60_000);
    await new Promise((r) => setImmediate(r));
    expect(outcomes).toHaveLength(2);
    expect((outcomes[0] as Error).message).toBe("GSE down");
    scheduler.stop();
  });

  it("names the rule in the event's resources", () => {
    expect(scheduledEvent(heartbeat, 0).resources[0]).toMatch(/rule\/gse-control-local-heartbeat$/);
  });
});
