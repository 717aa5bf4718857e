/**
 * The pure rules of a rollout (docs/rollouts.md §3): how big the next wave is, which agents the
 * health gate calls unhealthy, and whether a version satisfies expect_version. No I/O here.
 */
import { coerce, satisfies, valid } from "semver";
import { resolveLimit } from "../commands/rollout.ts";
import type { OutcomeCounts } from "../commands/schemas.ts";
import type { FleetAgent } from "../fleet/items.ts";
import { classOfAgent, lastSeen } from "../fleet/view-rules.ts";
import { GATE_CLASSES, type Gate, type Strategy } from "./spec.ts";

/** The wave before the next one, as the strategy reads it. */
export interface PreviousWave {
  readonly size: number;
  readonly counts?: OutcomeCounts | undefined;
}

/** Agents that settled well: replied, or delivered when replies are not awaited. */
export function successRate(counts: OutcomeCounts | undefined): number {
  if (!counts) return 1;
  const good = counts.REPLIED + counts.SENT;
  const settled = good + counts.FAILED + counts.TIMED_OUT + counts.SKIPPED;
  return settled === 0 ? 1 : good / settled;
}

/**
 * The next wave's size, given what is left. all: everything; linear: wave_size (count or share
 * of the total); exponential: start, then ×factor rounded up while the previous wave's success
 * rate holds at min_success_rate (default 1), else the same size again. The last takes the rest.
 */
export function nextWaveSize(strategy: Strategy | undefined, total: number, left: number, previous: PreviousWave | undefined): number {
  if (left <= 0) return 0;
  const kind = strategy ?? { kind: "all" as const };
  let size: number;
  if (kind.kind === "all") size = left;
  else if (kind.kind === "linear") size = Math.max(1, resolveLimit(kind.wave_size, total, "up"));
  else if (previous === undefined) size = kind.start;
  else size = successRate(previous.counts) >= (kind.min_success_rate ?? 1) ? Math.ceil(previous.size * kind.factor - 1e-9) : previous.size;
  return Math.min(size, left);
}

/** How many waves a strategy makes of `total` targets at most (every wave growing): refused above MAX_WAVES. */
export function waveCountAtMost(strategy: Strategy | undefined, total: number): number {
  let left = total;
  let previous: PreviousWave | undefined;
  let waves = 0;
  while (left > 0) {
    const size = nextWaveSize(strategy, total, left, previous);
    previous = { size };
    left -= size;
    waves++;
    if (waves > 10_000) break;
  }
  return waves;
}

/**
 * Why an agent is unhealthy by the gate's classes, or undefined: lost, stuck, degraded, gone, or
 * silent (not seen alive for silent_seconds, when the gate names it).
 */
export function unhealthyBy(agent: FleetAgent, partitionPolledAt: number | undefined, gate: Gate | undefined, now: number): string | undefined {
  const classes = new Set(gate?.classes ?? GATE_CLASSES);
  if (classes.has("lost") && agent.status === "lost") return "lost";
  if (classes.has("stuck") && agent.stuck_at !== undefined) return "stuck";
  const statusClass = classOfAgent(agent);
  if (classes.has("degraded") && statusClass === "degraded") return "degraded";
  if (classes.has("gone") && statusClass === "gone") return "gone";
  if (classes.has("silent") && gate?.silent_seconds !== undefined && agent.status !== "pending") {
    const seen = lastSeen(agent, partitionPolledAt);
    if (seen === undefined || now - seen > gate.silent_seconds * 1000) return "silent";
  }
  return undefined;
}

/** Whether an agent's reported version satisfies the range; a version that cannot be read does not. */
export function versionSatisfies(version: string | undefined, range: string): boolean {
  if (version === undefined) return false;
  const have = valid(version) ?? coerce(version)?.version;
  return have !== undefined && have !== null && satisfies(have, range);
}

/** The health gate's threshold: max_unhealthy as a count of the touched agents. */
export const unhealthyThreshold = (gate: Gate, touched: number): number => resolveLimit(gate.max_unhealthy, touched, "down");
