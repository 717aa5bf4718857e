/**
 * The heartbeat's rules, pure: what one poll's observation of an agent does to its stored state,
 * which transitions it makes, and what the fleet view derives (last_seen, outdated). No I/O here;
 * lib/heartbeat/poll.ts applies these to what it reads and what GSE answers.
 */
import { coerce, lt, valid } from "semver";
import type { AgentFacts } from "../agent-state.ts";
import type { FleetAgent, FleetStatus, TransitionKind } from "../store/fleet.ts";

/** GSE 2.0 status_code -2 is NOT_FOUND (gse-api.md §3.2): an id GSE does not know, like an omitted one. */
export const NOT_FOUND_STATUS = -2;

export interface RuleSettings {
  /** Polls in a row an agent must be seen down before it counts as lost. */
  readonly lostAfterPolls: number;
  /** Seconds an agent unseen is kept (DynamoDB TTL). */
  readonly evictAfterSeconds: number;
}

/** What GSE said about one agent in this poll, with GSE's own record (kept for alerts and history). */
export interface Observation {
  readonly facts: AgentFacts;
  /** GSE's raw item (list_agent_state) or host entry (get_agent_status); absent when GSE omitted the id. */
  readonly record?: Readonly<Record<string, unknown>>;
}

export interface PollContext {
  readonly pollId: string;
  /** When the poll started: every agent it sees alive was seen at this time. */
  readonly at: number;
  /** The last poll that answered for this agent's whole partition; an alive agent was seen then. */
  readonly partitionPolledAt: number | undefined;
}

export interface Transition {
  readonly kind: TransitionKind;
  readonly from: FleetStatus;
  readonly to: FleetStatus;
  readonly previousVersion?: string;
  readonly version?: string;
}

/** The state fields an observation may set; everything else on the item is bookkeeping. */
export type AgentUpdate = Pick<FleetAgent, "status" | "misses"> &
  Partial<Pick<FleetAgent, "miss_poll" | "first_seen_at" | "seen_at" | "bk_cloud_id" | "version" | "run_mode" | "status_code" | "record">> & {
    /** Epoch seconds for TTL, or null to remove it (an agent seen alive is never evicted). */
    readonly expires_at: number | null;
  };

export interface Outcome {
  /** Undefined when nothing changed: the item is not written. */
  readonly update?: AgentUpdate;
  readonly transitions: readonly Transition[];
}

export type Observed = "alive" | "down" | "unknown";

export function classify(observation: Observation): Observed {
  const { facts } = observation;
  if (!facts.known || facts.status_code === NOT_FOUND_STATUS) return "unknown";
  return facts.alive ? "alive" : "down";
}

/**
 * When an agent was last seen alive. An alive agent's item is not rewritten per poll: it was seen
 * by every poll since its last write, so the last poll that answered for its partition is its
 * last_seen. A suspect (alive with misses) or lost agent keeps the time written when it stopped.
 */
export function lastSeen(agent: Pick<FleetAgent, "status" | "misses" | "seen_at">, partitionPolledAt: number | undefined): number | undefined {
  if (agent.status === "alive" && agent.misses === 0) {
    const candidates = [agent.seen_at, partitionPolledAt].filter((t): t is number => t !== undefined);
    return candidates.length ? Math.max(...candidates) : undefined;
  }
  return agent.seen_at;
}

/** Alive but missed by the last poll(s), not yet K in a row: shown apart, alerted on never. */
export const isSuspect = (agent: Pick<FleetAgent, "status" | "misses">): boolean => agent.status === "alive" && agent.misses > 0;

const expiry = (fromMs: number, settings: RuleSettings): number => Math.floor(fromMs / 1000) + settings.evictAfterSeconds;

const sameRecordState = (agent: FleetAgent, facts: AgentFacts): boolean =>
  agent.bk_cloud_id === facts.bk_cloud_id && agent.version === facts.version && agent.run_mode === facts.run_mode && agent.status_code === facts.status_code;

/** GSE's state fields of an observation, as stored (legacy get_agent_status has no version/run_mode/status_code). */
function stateOf(observation: Observation): Partial<AgentUpdate> {
  const { facts, record } = observation;
  return {
    ...(facts.bk_cloud_id !== undefined ? { bk_cloud_id: facts.bk_cloud_id } : {}),
    ...(facts.version !== undefined ? { version: facts.version } : {}),
    ...(facts.run_mode !== undefined ? { run_mode: facts.run_mode } : {}),
    ...(facts.status_code !== undefined ? { status_code: facts.status_code } : {}),
    ...(record !== undefined ? { record: { ...record } } : {}),
  };
}

function versionTransition(agent: FleetAgent, facts: AgentFacts, to: FleetStatus): Transition[] {
  if (agent.version === undefined || facts.version === undefined || agent.version === facts.version) return [];
  return [{ kind: "version_changed", from: agent.status, to, previousVersion: agent.version, version: facts.version }];
}

/**
 * What this poll's observation does to one agent.
 * - unknown (omitted by GSE, or status -2) → status unknown, never lost: "wrong id" is not "offline".
 * - alive → alive; from lost it is `recovered`, from never-known it is `newly_seen`; a suspect's
 *   misses are reset without any transition (that is the flap suppression).
 * - down (known, not running) → an alive agent becomes suspect and counts misses, once per poll
 *   (a shard re-run or a leftover pass of the same poll does not count twice); at K misses it is
 *   `lost`. A never-known agent seen down is `newly_seen` and lost at once (it was never up).
 * - version differs from the stored one → `version_changed` as well.
 * Nothing changed → no update, so the item is not written.
 */
export function observe(agent: FleetAgent, observation: Observation, ctx: PollContext, settings: RuleSettings): Outcome {
  const observed = classify(observation);
  const { facts } = observation;
  const neverKnown = agent.first_seen_at === undefined;

  if (observed === "unknown") {
    if (agent.status === "unknown") return { transitions: [] };
    const since = lastSeen(agent, ctx.partitionPolledAt) ?? ctx.at;
    return {
      update: { status: "unknown", misses: 0, expires_at: agent.expires_at ?? expiry(since, settings) },
      transitions: [{ kind: "unknown", from: agent.status, to: "unknown" }],
    };
  }

  if (observed === "alive") {
    const transitions: Transition[] = [];
    if (neverKnown || agent.status === "pending" || agent.status === "unknown") {
      transitions.push({ kind: "newly_seen", from: agent.status, to: "alive", ...(facts.version !== undefined ? { version: facts.version } : {}) });
    } else if (agent.status === "lost") {
      transitions.push({ kind: "recovered", from: "lost", to: "alive" });
    }
    if (!neverKnown) transitions.push(...versionTransition(agent, facts, "alive"));
    const unchanged = agent.status === "alive" && agent.misses === 0 && sameRecordState(agent, facts) && agent.expires_at === undefined;
    if (unchanged && transitions.length === 0) return { transitions };
    return {
      update: {
        ...stateOf(observation),
        status: "alive",
        misses: 0,
        seen_at: ctx.at,
        first_seen_at: agent.first_seen_at ?? ctx.at,
        expires_at: null,
      },
      transitions,
    };
  }

  // Known to GSE, not running.
  if (neverKnown || agent.status === "pending" || agent.status === "unknown") {
    return {
      update: {
        ...stateOf(observation),
        status: "lost",
        misses: 0,
        first_seen_at: agent.first_seen_at ?? ctx.at,
        expires_at: expiry(agent.seen_at ?? ctx.at, settings),
      },
      transitions: [{ kind: "newly_seen", from: agent.status, to: "lost", ...(facts.version !== undefined ? { version: facts.version } : {}) }],
    };
  }
  if (agent.status === "lost") {
    const transitions = versionTransition(agent, facts, "lost");
    if (sameRecordState(agent, facts) && transitions.length === 0) return { transitions };
    return { update: { ...stateOf(observation), status: "lost", misses: agent.misses, expires_at: agent.expires_at ?? expiry(agent.seen_at ?? ctx.at, settings) }, transitions };
  }
  // Alive (possibly suspect) and now down.
  if (agent.miss_poll === ctx.pollId) return { transitions: [] };
  const misses = agent.misses + 1;
  // The first miss fixes when it was last seen: after this the item no longer follows the polls.
  const seenAt = agent.misses === 0 ? lastSeen(agent, ctx.partitionPolledAt) : agent.seen_at;
  const lost = misses >= settings.lostAfterPolls;
  const expiresAt = expiry(seenAt ?? ctx.at, settings);
  return {
    update: {
      ...stateOf(observation),
      status: lost ? "lost" : "alive",
      misses,
      miss_poll: ctx.pollId,
      ...(seenAt !== undefined ? { seen_at: seenAt } : {}),
      expires_at: expiresAt,
    },
    transitions: [...(lost ? [{ kind: "lost" as const, from: "alive" as const, to: "lost" as const }] : []), ...versionTransition(agent, facts, lost ? "lost" : "alive")],
  };
}

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
