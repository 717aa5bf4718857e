/**
 * How the fleet view reads a stored agent: its status class, when it was last seen, whether it
 * is suspect or outdated. The heartbeat writes agents by these rules; the fleet API shows them.
 */
// From semver's own files, not its index (in a Lambda bundle, lib/lambda-swaps/semver.ts, which
// takes every function we call anywhere): each function that shows an agent would carry semver's
// ranges, ≈12 kB it never runs.
import coerce from "semver/functions/coerce.js";
import lt from "semver/functions/lt.js";
import valid from "semver/functions/valid.js";
import { statusClassOf, type StatusClass } from "../gse/status-class.ts";
import type { FleetAgent } from "./items.ts";

/**
 * The class of an agent as stored. An item written before classes existed has none: it is
 * derived from what the item holds (its status first, since an unknown one kept the code it had).
 * Undefined for an agent GSE never answered for (pending).
 */
export function classOfAgent(agent: Pick<FleetAgent, "status" | "misses" | "status_code" | "status_class">): StatusClass | undefined {
  if (agent.status_class !== undefined) return agent.status_class;
  if (agent.status === "unknown") return "unknown";
  if (agent.status_code !== undefined) return statusClassOf(agent.status_code);
  if (agent.status === "alive") return agent.misses > 0 ? "degraded" : "alive";
  return agent.status === "lost" ? "degraded" : undefined;
}

/** Alive, not missed, and seen running by its last observation: its last_seen follows the polls. */
export const followsPolls = (agent: Pick<FleetAgent, "status" | "misses" | "status_code" | "status_class">): boolean =>
  agent.status === "alive" && agent.misses === 0 && classOfAgent(agent) === "alive";

/**
 * When an agent was last seen alive. An alive agent's item is not rewritten per poll: it was seen
 * by every poll since its last write, so the last poll that answered for its partition is its
 * last_seen. A suspect (alive with misses), transitional, lost or unknown agent keeps the time
 * written when it stopped running.
 */
export function lastSeen(
  agent: Pick<FleetAgent, "status" | "misses" | "seen_at" | "status_code" | "status_class">,
  partitionPolledAt: number | undefined,
): number | undefined {
  if (followsPolls(agent)) {
    const candidates = [agent.seen_at, partitionPolledAt].filter((t): t is number => t !== undefined);
    return candidates.length ? Math.max(...candidates) : undefined;
  }
  return agent.seen_at;
}

/** Alive and seen down (degraded or gone) by its last write: each complete poll of its partition since is one more miss. */
function countingMisses(agent: Pick<FleetAgent, "status" | "misses" | "status_code" | "status_class">): boolean {
  const statusClass = classOfAgent(agent);
  return agent.status === "alive" && agent.misses > 0 && (statusClass === "degraded" || statusClass === "gone");
}

/**
 * An agent's misses as of its partition's last complete poll (`partitionPolls`: `meta`/`polled`
 * `nNN`). The heartbeat does not write an agent that is only counting misses: the stored count is
 * the one of its last write (the poll numbered `miss_seq`), and every poll that answered for the
 * whole partition since saw it down with the same answer (any other answer is written).
 */
export function missesOf(
  agent: Pick<FleetAgent, "status" | "misses" | "miss_seq" | "status_code" | "status_class">,
  partitionPolls: number | undefined,
): number {
  if (agent.miss_seq === undefined || partitionPolls === undefined || !countingMisses(agent)) return agent.misses;
  return agent.misses + Math.max(0, partitionPolls - agent.miss_seq);
}

/** Alive but missed by the last poll(s), not yet K in a row: shown apart, alerted on never. */
export const isSuspect = (agent: Pick<FleetAgent, "status" | "misses">): boolean => agent.status === "alive" && agent.misses > 0;

/**
 * Whether `version` is below `minVersion`. Agent versions are semver-like ("2.1.5"); a loose one
 * ("v2.1", "2.1.5.1") is coerced; one that cannot be read at all is not called outdated.
 */
export function isOutdated(version: string | undefined, minVersion: string | undefined): boolean {
  if (version === undefined || minVersion === undefined) return false;
  const have = valid(version) ?? coerce(version)?.version;
  const need = valid(minVersion) ?? coerce(minVersion)?.version;
  return have !== undefined && need !== undefined && lt(have, need);
}
