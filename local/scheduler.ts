import type { ScheduledEvent } from "aws-lambda";
import { randomUUID } from "node:crypto";
import type { Schedule } from "../lib/wiring.ts";
import { LOCAL_ACCOUNT, LOCAL_REGION } from "./aws.ts";

export interface Timers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export function scheduledEvent(schedule: Schedule, at: number): ScheduledEvent {
  return {
    version: "0",
    id: randomUUID(),
    "detail-type": "Scheduled Event",
    source: "aws.events",
    account: LOCAL_ACCOUNT,
    time: new Date(at).toISOString().replace(/\.\d{3}Z$/, "Z"),
    region: LOCAL_REGION,
    resources: [`arn:aws:events:${LOCAL_REGION}:${LOCAL_ACCOUNT}:rule/gse-control-local-${schedule.name}`],
    detail: {},
  };
}

export interface Scheduler {
  stop(): void;
}

/**
 * EventBridge `rate(N minutes)`: fires at every N-minute boundary. A run still going when the
 * next is due is not doubled up locally (it is reported through onSkip instead).
 */
export function startScheduler(options: {
  schedules: readonly Schedule[];
  invoke: (schedule: Schedule, event: ScheduledEvent) => Promise<unknown>;
  timers?: Timers;
  onRun?: (schedule: Schedule, outcome: { error?: unknown }) => void;
  onSkip?: (schedule: Schedule) => void;
}): Scheduler {
  const timers = options.timers ?? realTimers;
  const handles = new Map<string, unknown>();
  const running = new Set<string>();
  let stopped = false;

  const arm = (schedule: Schedule): void => {
    const period = schedule.everyMinutes * 60_000;
    const now = timers.now();
    const next = Math.floor(now / period) * period + period;
    handles.set(
      schedule.name,
      timers.setTimeout(() => {
        if (stopped) return;
        if (running.has(schedule.name)) {
          options.onSkip?.(schedule);
        } else {
          running.add(schedule.name);
          options
            .invoke(schedule, scheduledEvent(schedule, next))
            .then(
              () => options.onRun?.(schedule, {}),
              (error: unknown) => options.onRun?.(schedule, { error }),
            )
            .finally(() => running.delete(schedule.name));
        }
        arm(schedule);
      }, next - now),
    );
  };

  for (const schedule of options.schedules) arm(schedule);
  return {
    stop() {
      stopped = true;
      for (const handle of handles.values()) timers.clearTimeout(handle);
    },
  };
}
