/**
 * The heartbeat's rules, pure: what one poll's observation of an agent does to its stored state,
 * which transitions it makes, and what the fleet view derives (last_seen, class, outdated). What a
 * status_code means is lib/gse/status-class.ts's; which transitions are alerted is
 * lib/heartbeat/alerts.ts's. No I/O here;
 * lib/heartbeat/poll.ts applies these to what it reads and what GSE answers.
 */
import type { AgentFacts } from "../agent-state/store.ts";
import type { FleetAgent, FleetStatus, TransitionKind } from "../fleet/store.ts";
import { classOfAgent, followsPolls, lastSeen, missesOf } from "../fleet/view-rules.ts";
import { QUERY_FAILED_STATUS_CODE, statusClassOf, statusNameOf, type StatusClass } from "../gse/status-class.ts";

export interface RuleSettings {
  /** Polls in a row an agent must be seen down before it counts as lost. */
  readonly lostAfterPolls: number;
  /** Seconds an agent unseen is kept (DynamoDB TTL). */
  readonly evictAfterSeconds: number;
  /** How long an agent may stay transitional, from the first poll that saw it so, before it is `stuck` (ms). */
  readonly transitionalGraceMs: number;
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
  /**
   * How many polls answered for the agent's whole partition before this one (`meta`/`polled` `nNN`):
   * what a down agent's misses are counted by between its writes. Undefined when not known: every
   * miss is then written.
   */
  readonly partitionPolls?: number | undefined;
}

export interface Transition {
  readonly kind: TransitionKind;
  readonly from: FleetStatus;
  readonly to: FleetStatus;
  readonly previousVersion?: string;
  readonly version?: string;
  /** The observation's class, and its raw code and that code's name when GSE gave one. */
  readonly statusClass: StatusClass;
  readonly statusCode?: number;
  readonly statusName?: string;
  /** Recorded in the agent's history, never alerted: the recovery of an agent whose lost was never alerted. */
  readonly silent?: true;
}

type Removable<T> = { [K in keyof T]?: T[K] | null };

/** The state fields an observation may set (null removes one); everything else on the item is bookkeeping. */
export type AgentUpdate = Pick<FleetAgent, "status" | "misses"> &
  Partial<Pick<FleetAgent, "miss_poll" | "first_seen_at" | "seen_at" | "bk_cloud_id" | "version" | "run_mode" | "record">> &
  Removable<Pick<FleetAgent, "status_code" | "status_class" | "transitional_since" | "stuck_at" | "miss_seq">> & {
    /** Epoch seconds for TTL, or null to remove it (an agent seen alive is never evicted). */
    readonly expires_at: number | null;
  };

export interface Outcome {
  /** Undefined when nothing changed: the item is not written. */
  readonly update?: AgentUpdate;
  readonly transitions: readonly Transition[];
  /**
   * A miss counted without a write: the poll's count for the partition counts it, once the poll has
   * answered for the whole partition. Where it did not (a chunk GSE failed), this is written instead.
   */
  readonly deferred?: AgentUpdate;
}

/**
 * The class of one observation (lib/gse/status-class.ts): an id GSE omitted is unknown.
 * The legacy get_agent_status door has no status_code, only alive 0/1, and answers an id it does
 * not know as not alive: there, not alive is down (degraded), as it was before classes existed.
 * It cannot tell a starting or upgrading agent, nor a wrong id, from a dead one.
 */
export function classify(observation: Observation): StatusClass {
  const { facts } = observation;
  if (!facts.known) return "unknown";
  if (facts.status_code === undefined) return facts.alive ? "alive" : "degraded";
  return statusClassOf(facts.status_code);
}

const expiry = (fromMs: number, settings: RuleSettings): number => Math.floor(fromMs / 1000) + settings.evictAfterSeconds;

/** Whether the item already holds what this observation says (fields the observation lacks are not compared). */
function sameState(agent: FleetAgent, observation: Observation, statusClass: StatusClass): boolean {
  const { facts } = observation;
  const same = <K extends "bk_cloud_id" | "version" | "run_mode">(field: K): boolean => facts[field] === undefined || agent[field] === facts[field];
  return same("bk_cloud_id") && same("version") && same("run_mode") && agent.status_code === facts.status_code && classOfAgent(agent) === statusClass;
}

/**
 * GSE's state fields of an observation, as stored. Without a status_code (an omitted id, or the
 * legacy get_agent_status) the stored one is removed, so no old code shows beside the new class;
 * an omitted id keeps GSE's last record.
 */
function stateOf(observation: Observation, statusClass: StatusClass): Partial<AgentUpdate> {
  const { facts, record } = observation;
  return {
    ...(facts.bk_cloud_id !== undefined ? { bk_cloud_id: facts.bk_cloud_id } : {}),
    ...(facts.version !== undefined ? { version: facts.version } : {}),
    ...(facts.run_mode !== undefined ? { run_mode: facts.run_mode } : {}),
    status_code: facts.status_code ?? null,
    status_class: statusClass,
    ...(record !== undefined ? { record: { ...record } } : {}),
  };
}

/** What a transition says about the observation that made it. */
function about(observation: Observation, statusClass: StatusClass): Pick<Transition, "statusClass" | "statusCode" | "statusName"> {
  const code = observation.facts.status_code;
  return { statusClass, ...(code !== undefined ? { statusCode: code, statusName: statusNameOf(code) } : {}) };
}

/** Leaving a transitional state (to alive, degraded or gone) ends its stay: the grace starts over next time. */
const endTransitional = (agent: FleetAgent): Partial<AgentUpdate> =>
  agent.transitional_since !== undefined || agent.stuck_at !== undefined ? { transitional_since: null, stuck_at: null } : {};

function versionTransition(agent: FleetAgent, observation: Observation, to: FleetStatus, statusClass: StatusClass): Transition[] {
  const { facts } = observation;
  if (agent.first_seen_at === undefined || agent.version === undefined || facts.version === undefined || agent.version === facts.version) return [];
  return [{ kind: "version_changed", from: agent.status, to, previousVersion: agent.version, version: facts.version, ...about(observation, statusClass) }];
}

/**
 * What this poll's observation does to one agent, by its class (lib/gse/status-class.ts):
 * - unknown, -2 or omitted (GSE does not know the id) → status unknown, never lost: "wrong id" is
 *   not "offline". -1 (GSE's query failed) changes nothing but the code shown (holdQueryFailed).
 * - alive → alive; from lost it is `recovered`, from never-known it is `newly_seen`; a suspect's
 *   misses are reset without any transition (that is the flap suppression).
 * - transitional → not down: see observeTransitional (its own grace, then `stuck`).
 * - degraded or gone → down: an alive agent becomes suspect and counts misses, once per poll
 *   (a shard re-run or a leftover pass of the same poll does not count twice); at K misses it is
 *   `lost`. Only the first miss (a change of class) and the K-th (lost) are written: the misses
 *   between are counted by the partition's polls (view-rules.ts missesOf). A never-known agent
 *   seen down is `newly_seen` and lost at once (it was never up).
 * - version differs from the stored one → `version_changed` as well.
 * Nothing changed → no update, so the item is not written.
 */
export function observe(agent: FleetAgent, observation: Observation, ctx: PollContext, settings: RuleSettings): Outcome {
  const observed = classify(observation);
  switch (observed) {
    case "unknown":
      return observation.facts.status_code === QUERY_FAILED_STATUS_CODE
        ? holdQueryFailed(agent, observation, ctx, settings)
        : observeNotFound(agent, observation, ctx, settings);
    case "alive":
      return observeAlive(agent, observation, ctx);
    case "transitional":
      return observeTransitional(agent, observation, ctx, settings);
    case "degraded":
    case "gone":
      return observeDown(agent, observation, observed, ctx, settings);
  }
}

/**
 * -1: GSE's own query failed for this agent. Like a chunk GSE did not answer, that says nothing
 * about the agent: its status, misses and transitional stay are kept, no transition is made and
 * nothing is alerted. Only what GSE said is recorded (code -1, class unknown), and an alive
 * agent's last_seen stops following the polls: it was not seen running.
 */
function holdQueryFailed(agent: FleetAgent, observation: Observation, ctx: PollContext, settings: RuleSettings): Outcome {
  if (sameState(agent, observation, "unknown")) return { transitions: [] };
  const seenAt = followsPolls(agent) ? lastSeen(agent, ctx.partitionPolledAt) : agent.seen_at;
  return {
    update: {
      ...stateOf(observation, "unknown"),
      status: agent.status,
      // The misses counted so far are kept as written: while it shows -1 its partition's polls count none.
      misses: missesOf(agent, ctx.partitionPolls),
      ...(seenAt !== undefined ? { seen_at: seenAt } : {}),
      expires_at: agent.expires_at ?? expiry(seenAt ?? ctx.at, settings),
    },
    transitions: [],
  };
}

/** -2 or omitted: an id GSE does not know is unknown, once (`unknown`), and never lost. */
function observeNotFound(agent: FleetAgent, observation: Observation, ctx: PollContext, settings: RuleSettings): Outcome {
  if (agent.status === "unknown" && sameState(agent, observation, "unknown")) return { transitions: [] };
  const seenAt = lastSeen(agent, ctx.partitionPolledAt);
  return {
    update: {
      ...stateOf(observation, "unknown"),
      status: "unknown",
      misses: 0,
      ...(seenAt !== undefined ? { seen_at: seenAt } : {}),
      expires_at: agent.expires_at ?? expiry(seenAt ?? ctx.at, settings),
    },
    transitions: agent.status === "unknown" ? [] : [{ kind: "unknown", from: agent.status, to: "unknown", ...about(observation, "unknown") }],
  };
}

function observeAlive(agent: FleetAgent, observation: Observation, ctx: PollContext): Outcome {
  const { facts } = observation;
  const info = about(observation, "alive");
  const transitions: Transition[] = [];
  if (agent.first_seen_at === undefined || agent.status === "pending" || agent.status === "unknown") {
    transitions.push({ kind: "newly_seen", from: agent.status, to: "alive", ...(facts.version !== undefined ? { version: facts.version } : {}), ...info });
  } else if (agent.status === "lost") {
    // Lost with no misses counted was first seen down (never alive): no lost was alerted, so no all-clear is due.
    transitions.push({ kind: "recovered", from: "lost", to: "alive", ...info, ...(agent.misses === 0 ? { silent: true as const } : {}) });
  }
  transitions.push(...versionTransition(agent, observation, "alive", "alive"));
  const unchanged =
    agent.status === "alive" &&
    agent.misses === 0 &&
    sameState(agent, observation, "alive") &&
    agent.expires_at === undefined &&
    agent.transitional_since === undefined &&
    agent.stuck_at === undefined;
  if (unchanged && transitions.length === 0) return { transitions };
  return {
    update: {
      ...stateOf(observation, "alive"),
      ...endTransitional(agent),
      status: "alive",
      misses: 0,
      seen_at: ctx.at,
      first_seen_at: agent.first_seen_at ?? ctx.at,
      expires_at: null,
    },
    transitions,
  };
}

/**
 * Transitional (installing, starting, upgrading, stopping) is not down: it counts no miss and
 * ends a run of them, and the verdict stays (an alive agent stays alive, not suspect; a lost one
 * lost; a pending one pending until it is seen running or down). Its stay is timed from the first
 * poll that sees it transitional (`transitional_since`, kept through unknown answers); one still
 * transitional after the grace is `stuck`, once per stay (`stuck_at`).
 */
function observeTransitional(agent: FleetAgent, observation: Observation, ctx: PollContext, settings: RuleSettings): Outcome {
  const since = agent.transitional_since ?? ctx.at;
  const stuck = agent.stuck_at === undefined && ctx.at - since >= settings.transitionalGraceMs;
  const transitions: Transition[] = [
    ...(stuck ? [{ kind: "stuck" as const, from: agent.status, to: agent.status, ...about(observation, "transitional") }] : []),
    ...versionTransition(agent, observation, agent.status, "transitional"),
  ];
  const misses = agent.status === "alive" ? 0 : agent.misses;
  const unchanged = agent.transitional_since !== undefined && !stuck && misses === agent.misses && sameState(agent, observation, "transitional");
  if (unchanged && transitions.length === 0) return { transitions };
  // It stopped running now (an alive agent's last_seen followed the polls until this one).
  const seenAt = followsPolls(agent) ? lastSeen(agent, ctx.partitionPolledAt) : agent.seen_at;
  return {
    update: {
      ...stateOf(observation, "transitional"),
      status: agent.status,
      misses,
      ...(seenAt !== undefined ? { seen_at: seenAt } : {}),
      transitional_since: since,
      ...(stuck ? { stuck_at: ctx.at } : {}),
      expires_at: agent.expires_at ?? expiry(seenAt ?? ctx.at, settings),
    },
    transitions,
  };
}

/** Degraded or gone: known to GSE, not running, not on its way anywhere. */
function observeDown(agent: FleetAgent, observation: Observation, observed: StatusClass, ctx: PollContext, settings: RuleSettings): Outcome {
  const { facts } = observation;
  const info = about(observation, observed);
  if (agent.first_seen_at === undefined || agent.status === "pending" || agent.status === "unknown") {
    return {
      update: {
        ...stateOf(observation, observed),
        ...endTransitional(agent),
        status: "lost",
        misses: 0,
        first_seen_at: agent.first_seen_at ?? ctx.at,
        expires_at: expiry(agent.seen_at ?? ctx.at, settings),
      },
      transitions: [{ kind: "newly_seen", from: agent.status, to: "lost", ...(facts.version !== undefined ? { version: facts.version } : {}), ...info }],
    };
  }
  if (agent.status === "lost") {
    const transitions = versionTransition(agent, observation, "lost", observed);
    const ended = endTransitional(agent);
    if (sameState(agent, observation, observed) && Object.keys(ended).length === 0 && transitions.length === 0) return { transitions };
    return {
      update: {
        ...stateOf(observation, observed),
        ...ended,
        status: "lost",
        misses: agent.misses,
        expires_at: agent.expires_at ?? expiry(agent.seen_at ?? ctx.at, settings),
      },
      transitions,
    };
  }
  // Alive (possibly suspect, or back from a transitional state it entered alive) and now down.
  if (agent.miss_poll === ctx.pollId) return { transitions: [] };
  const misses = missesOf(agent, ctx.partitionPolls) + 1;
  // The first miss fixes when it was last seen: after this the item no longer follows the polls.
  const seenAt = agent.misses === 0 ? lastSeen(agent, ctx.partitionPolledAt) : agent.seen_at;
  const lost = misses >= settings.lostAfterPolls;
  const update: AgentUpdate = {
    ...stateOf(observation, observed),
    ...endTransitional(agent),
    status: lost ? "lost" : "alive",
    misses,
    miss_poll: ctx.pollId,
    miss_seq: ctx.partitionPolls === undefined ? null : ctx.partitionPolls + 1,
    ...(seenAt !== undefined ? { seen_at: seenAt } : {}),
    expires_at: expiry(seenAt ?? ctx.at, settings),
  };
  const transitions: Transition[] = [
    ...(lost ? [{ kind: "lost" as const, from: "alive" as const, to: "lost" as const, ...info }] : []),
    ...versionTransition(agent, observation, lost ? "lost" : "alive", observed),
  ];
  // Still counting, with the same answer as written: this miss is the partition's poll count's to keep.
  const counting = agent.misses > 0 && agent.miss_seq !== undefined && ctx.partitionPolls !== undefined;
  if (counting && transitions.length === 0 && sameState(agent, observation, observed)) return { transitions: [], deferred: update };
  return { update, transitions };
}

/** The agent as it is once `update` is written at `at`: rev and changed_at moved on, null fields removed. */
export function applyUpdate(agent: FleetAgent, update: AgentUpdate, at: number): FleetAgent {
  const next: FleetAgent = { ...agent, rev: agent.rev + 1, changed_at: at };
  for (const [field, value] of Object.entries(update)) {
    if (value === null) delete next[field];
    else if (value !== undefined) next[field] = value;
  }
  return next;
}
