/**
 * A heartbeat shard's steps (poll.ts runShard strings them together): read its partitions of the
 * fleet (from the instance's cache where their revision held, fleet-cache.ts); per chunk, observe
 * (ask GSE within the budget), decide (rules.ts) and write each agent that changed (conditional on
 * the rev it read, marking the alert it owes: alert-marks.ts), tallying its transitions; then
 * recall the alerts a killed run of this shard wrote and never counted, record history, mark the
 * partitions polled (and move the revision of those it wrote), count the fleet view and store the
 * shard's result for the poll's last shard to aggregate.
 */
import type { LimitFunction } from "p-limit";
import { agentSourceOf, isAskable } from "../agent-state/fetch.ts";
import { partitionOf, type FleetAgent, type FleetCalls, type TransitionKind, type TransitionRecord } from "../fleet/store.ts";
import { fleetCacheOf, type FleetCache } from "./fleet-cache.ts";
import { alertOfMarked, dueMarkOf, marksAfter, statusAfter, type DueMark, type MarkedTransition } from "./alert-marks.ts";
import { TRANSITION_ALERT_KINDS, type SampleEntry, type TransitionAlertKind } from "./alerts.ts";
import { describeError, observeChunk, withDeadline } from "./observe.ts";
import { applyUpdate, observe, type AgentUpdate, type Observation, type Outcome, type RuleSettings, type Transition } from "./rules.ts";
import { classOfAgent, isSuspect, lastSeen } from "../fleet/view-rules.ts";
import { statusNameOf } from "../gse/status-class.ts";
import type { HeartbeatDeps } from "./settings.ts";
import {
  emptyClassCounts,
  emptyStatusCounts,
  emptyTallies,
  emptyTransitionCounts,
  HEARTBEAT_SHARD_JOB,
  POLL_RECORD_RETENTION_SECONDS,
  type HeartbeatShardJob,
  type ShardResult,
  type Tally,
} from "./shard-job.ts";

/**
 * A GSE call still unanswered at this multiple of the budget counts as failed. assertBudgetFits
 * keeps the budget at most 80 % of the timeout, so this is at most the timeout itself, and the
 * client's retries of a slow GSE cannot make the function time out before it records its result.
 */
const HARD_DEADLINE_FACTOR = 1.1;

/** What a shard read of its partitions; `byId` follows the agents as they are written. */
export interface ShardView {
  readonly polledAt: ReadonlyMap<number, number>;
  /** Per partition, the polls that answered for all of it before this poll (what misses are counted by). */
  readonly pollsBefore: ReadonlyMap<number, number>;
  /** Partitions queried from the table (the others were the cache's). */
  readonly partitionsRead: number;
  readonly byId: Map<string, FleetAgent>;
  readonly partitionOfId: ReadonlyMap<string, number>;
  /** Agents read. */
  readonly agents: number;
  /** Ids the shard's GSE call can address, partition by partition (a leftover chunk then spans few). */
  readonly askable: readonly string[];
  readonly readMs: number;
}

/** What a shard did so far; its steps add to it. */
export interface ShardTally {
  gseCalls: number;
  failedChunks: number;
  gseError: string | undefined;
  polled: number;
  conflicts: number;
  writeFailures: number;
  /** Writes that threw but were found stored on reading them back (not failures). */
  landedAfterError: number;
  readonly transitions: Record<TransitionKind, number>;
  readonly alerts: Record<TransitionAlertKind, Tally>;
  /** Agents whose transitions this run counted (a recall skips them). */
  readonly transitioned: Set<string>;
  readonly history: TransitionRecord[];
  /** Partitions whose chunks could not start within the budget: another shard polls them. */
  readonly leftover: Set<number>;
  /** Partitions with a chunk GSE did not answer: not marked polled. */
  readonly failed: Set<number>;
  /** Agents written (their partitions' revisions move at the end). */
  agentsWritten: number;
  readonly written: Set<number>;
  /**
   * Misses this poll counted, by agent: without a write (`deferred`), or written (`counted`, numbered
   * as if the partition's poll completes). Where it does not, both are written again (writeDeferred).
   */
  readonly deferred: Map<string, AgentUpdate>;
  readonly counted: Map<string, AgentUpdate>;
}

/** One shard in progress: what it was given, what it read, and what it did so far. */
export interface ShardContext {
  readonly deps: HeartbeatDeps;
  readonly job: HeartbeatShardJob;
  /** When the shard began: its budget counts from here. */
  readonly started: number;
  readonly calls: FleetCalls;
  readonly view: ShardView;
  readonly tally: ShardTally;
  readonly writeLimit: LimitFunction;
  readonly cache: FleetCache;
}

export const newShardTally = (): ShardTally => ({
  gseCalls: 0,
  failedChunks: 0,
  gseError: undefined,
  polled: 0,
  conflicts: 0,
  writeFailures: 0,
  landedAfterError: 0,
  transitions: emptyTransitionCounts(),
  alerts: emptyTallies(),
  transitioned: new Set(),
  history: [],
  leftover: new Set(),
  failed: new Set(),
  agentsWritten: 0,
  written: new Set(),
  deferred: new Map(),
  counted: new Map(),
});

/** The cache a shard reads through: the one its deps name, or the instance's own for the table. */
export const shardCache = (deps: HeartbeatDeps): FleetCache => deps.fleetCache ?? fleetCacheOf(deps.store.tableName);

/**
 * Read: `meta`/`polled` (each partition's polled time, count of polls and revision), then the
 * shard's agents, from the cache where a partition's revision held.
 */
export async function readShard(deps: HeartbeatDeps, job: HeartbeatShardJob, started: number, calls: FleetCalls): Promise<ShardView> {
  const { store, settings } = deps;
  const marks = await store.partitionMarks(calls);
  const { partitions, queried } = await shardCache(deps).read(store, job.partitions, marks, job.at, calls);
  const readMs = deps.now() - started;
  const source = agentSourceOf(settings.useNewAgentStatusApi);
  const byId = new Map<string, FleetAgent>();
  const partitionOfId = new Map<string, number>();
  // Partition by partition, so a leftover chunk spans few.
  const askable: string[] = [];
  for (const { partition, agents } of partitions) {
    for (const agent of agents.values()) {
      byId.set(agent.agent_id, agent);
      partitionOfId.set(agent.agent_id, partition);
      if (isAskable(source, agent.agent_id)) askable.push(agent.agent_id);
    }
  }
  // A re-run of this poll's shard finds its partitions counted already: this poll is not a poll before itself.
  const pollsBefore = new Map(
    job.partitions.map((p) => {
      const n = marks.polls.get(p) ?? 0;
      return [p, marks.polledAt.get(p) === job.at ? Math.max(0, n - 1) : n];
    }),
  );
  return {
    polledAt: marks.polledAt,
    pollsBefore,
    partitionsRead: queried,
    byId,
    partitionOfId,
    agents: byId.size,
    askable,
    readMs,
  };
}

/** Observe, then decide, write and tally every agent of one chunk. */
export async function pollChunk(shard: ShardContext, ids: readonly string[]): Promise<void> {
  const observations = await observeInBudget(shard, ids);
  if (observations === undefined) return;
  shard.tally.polled += ids.length;
  // Decided for the whole chunk at once: only the agents that changed wait for a write slot.
  const changes = ids.flatMap((id) => decideAgent(shard, id, observations.get(id)) ?? []);
  await Promise.all(changes.map((change) => shard.writeLimit(() => settleAgent(shard, change))));
}

/**
 * Observe: GSE's answer for a chunk, or undefined when the chunk is left over (the budget is
 * spent) or GSE did not answer it (its agents are left as they were).
 */
async function observeInBudget(shard: ShardContext, ids: readonly string[]): Promise<Map<string, Observation> | undefined> {
  const { deps, tally, view } = shard;
  const { settings } = deps;
  const partitions = new Set(ids.map((id) => view.partitionOfId.get(id) ?? 0));
  if (deps.now() - shard.started >= settings.budgetMs) {
    for (const p of partitions) tally.leftover.add(p);
    return undefined;
  }
  tally.gseCalls++;
  try {
    // A chunk started just inside the budget may not retry a slow GSE past the function's timeout.
    return await withDeadline(
      observeChunk(deps.gse, settings.useNewAgentStatusApi, ids),
      settings.budgetMs * HARD_DEADLINE_FACTOR - (deps.now() - shard.started),
    );
  } catch (error) {
    tally.failedChunks++;
    tally.gseError ??= describeError(error);
    for (const p of partitions) tally.failed.add(p);
    deps.logger?.warn("heartbeat chunk not answered by GSE; its agents are left as they were", {
      poll_id: shard.job.poll_id,
      ids: ids.length,
      error: describeError(error),
    });
    return undefined;
  }
}

/** An agent this poll changes: what it was, what GSE said, and the rules' outcome. */
interface Change {
  readonly agent: FleetAgent;
  readonly partition: number;
  readonly observation: Observation;
  readonly outcome: Outcome & { readonly update: AgentUpdate };
}

/** Decide (rules.ts observe): the change to write, or undefined when there is none (a miss only counted is noted). */
function decideAgent(shard: ShardContext, id: string, observation: Observation | undefined): Change | undefined {
  const { deps, job, view } = shard;
  const agent = view.byId.get(id);
  if (agent === undefined || observation === undefined) return undefined;
  const rules: RuleSettings = deps.settings;
  const partition = view.partitionOfId.get(id) ?? 0;
  const ctx = { pollId: job.poll_id, at: job.at, partitionPolledAt: view.polledAt.get(partition), partitionPolls: view.pollsBefore.get(partition) };
  const outcome = observe(agent, observation, ctx, rules);
  if (outcome.deferred !== undefined) shard.tally.deferred.set(id, outcome.deferred);
  const { update } = outcome;
  return update === undefined ? undefined : { agent, partition, observation, outcome: { ...outcome, update } };
}

/** A poll's change of an agent, with the agent's alert marks when this write adds or drops one. */
type MarkedUpdate = AgentUpdate & { readonly alerts_due?: Record<string, string> | null };

/** The alert a transition raises, if any (rules.ts makes at most one per observation). */
const alertOf = (t: Pick<Transition, "kind" | "silent">): TransitionAlertKind | undefined => alertOfMarked(t);

/** The mark of a write's transitions (every one of them, alerting or not), or undefined when it makes none. */
function markOfTransitions(agent: FleetAgent, transitions: readonly Transition[]): Omit<DueMark, "shard"> | undefined {
  if (transitions.length === 0) return undefined;
  const marked = transitions.map((t): MarkedTransition => (t.silent === true ? { kind: t.kind, silent: true } : { kind: t.kind }));
  const previousVersion = transitions.find((t) => t.previousVersion !== undefined)?.previousVersion;
  return { transitions: marked, from: agent.status, ...(previousVersion !== undefined ? { previousVersion } : {}) };
}

/** Write a change (with the mark of the transitions it makes), then tally what the write made true. */
async function settleAgent(shard: ShardContext, change: Change): Promise<void> {
  const { job } = shard;
  const { agent, partition, observation, outcome } = change;
  const id = agent.agent_id;
  const due = markOfTransitions(agent, outcome.transitions);
  const marks = marksAfter(agent, markingShard(shard), due);
  const update: MarkedUpdate = marks === undefined ? outcome.update : { ...outcome.update, alerts_due: marks };
  let next = applyUpdate(agent, update, job.at);
  const answer = await writeAgent(shard, agent, update);
  if (answer !== "written") {
    const landed = due === undefined ? undefined : await markLanded(shard, id);
    if (landed === undefined) {
      if (answer !== "conflict") logWriteFailure(shard, id, answer.error);
      return;
    }
    if (answer !== "conflict") landedAfterError(shard, id, answer.error);
    next = landed;
  }
  wrote(shard, partition, next);
  // Still counting (a lost agent counts no more): renumbered if the partition's poll does not complete.
  if (typeof update.miss_seq === "number" && update.status === "alive") shard.tally.counted.set(id, outcome.update);
  for (const t of outcome.transitions) tallyTransition(shard, { previous: agent, next, record: observation.record ?? agent.record, transition: t });
}

/**
 * A write that makes a transition and answered a conflict or an error may have landed all the same
 * (the SDK retried a write whose answer was lost, and found its own rev moved): read back, the agent
 * as it is when it carries this poll's mark from this shard, so its transitions (and alert) are
 * counted now. A read that fails too fails the shard: its re-run recalls them from the mark, if the write landed.
 */
async function markLanded(shard: ShardContext, agentId: string): Promise<FleetAgent | undefined> {
  const item = await shard.deps.store.getAgent(agentId, shard.calls, { consistent: true });
  return item !== undefined && dueMarkOf(item, markingShard(shard)) !== undefined ? item : undefined;
}

const markingShard = (shard: ShardContext) => ({ pollId: shard.job.poll_id, at: shard.job.at, shard: shard.job.shard });

/**
 * Recall: the transitions an earlier run of this shard wrote on its agents (their marks) and never
 * counted in a result, because it died before storing one. This run re-observed those agents as
 * already changed, so it made no transition of its own for them; each is counted here as the
 * write made it, and put in history again (the same key: a history item written already is
 * written over with the same transition). An agent another poll wrote since is alerted all the
 * same (its alert is due once), shown as that transition left it, with what GSE said at the later
 * write; its history is that write's to keep, and a transition that raises no alert (newly seen,
 * version changed) is then not counted either: the item no longer says what it was. An agent
 * unregistered since the write is recalled from the item the unregister kept under the poll
 * (agents-store.ts keepOwedMarks): one consistent query of the poll's `owed#` items per run.
 */
export async function recallMarks(shard: ShardContext): Promise<void> {
  for (const agent of shard.view.byId.values()) recallAgent(shard, agent);
  // Agents unregistered since their write are kept under the poll (agents-store.ts keepOwedMarks); one still in the view counted above.
  for (const agent of await shard.deps.store.owedAgents(shard.job.poll_id, shard.calls)) {
    const inView = shard.view.byId.get(agent.agent_id);
    if (inView === undefined || dueMarkOf(inView, markingShard(shard)) === undefined) recallAgent(shard, agent, { owed: true });
  }
}

function recallAgent(shard: ShardContext, agent: FleetAgent, options: { readonly owed?: boolean } = {}): void {
  if (options.owed !== true && shard.tally.transitioned.has(agent.agent_id)) return;
  const due = dueMarkOf(agent, markingShard(shard));
  if (due === undefined) return;
  const asWritten = agent.changed_at === shard.job.at;
  for (const transition of transitionsOfMark(agent, due)) {
    if (alertOf(transition) === undefined && !asWritten) continue;
    tallyTransition(shard, { previous: agent, next: { ...agent, status: transition.to }, record: agent.record, transition }, { history: asWritten });
  }
}

/**
 * The transitions a mark stands for; what GSE said is the item's (as the marking write left it,
 * unless another wrote since). An alerting one leaves the status its kind does; the others the
 * item's (only counted as the marking write left it).
 */
function transitionsOfMark(agent: FleetAgent, due: DueMark): Transition[] {
  const code = agent.status_code;
  const about = {
    statusClass: classOfAgent(agent) ?? "unknown",
    ...(code !== undefined ? { statusCode: code, statusName: statusNameOf(code) } : {}),
  } as const;
  return due.transitions.map((marked): Transition => {
    const alert = alertOfMarked(marked);
    const to = alert === undefined ? agent.status : statusAfter({ kind: alert, from: due.from });
    const versions =
      marked.kind === "version_changed"
        ? {
            ...(due.previousVersion !== undefined ? { previousVersion: due.previousVersion } : {}),
            ...(agent.version !== undefined ? { version: agent.version } : {}),
          }
        : marked.kind === "newly_seen" && agent.version !== undefined
          ? { version: agent.version }
          : {};
    return { kind: marked.kind, from: due.from, to, ...versions, ...about, ...(marked.silent === true ? { silent: true as const } : {}) };
  });
}

/** A write landed: the view, the cache and the partitions to bump follow it. */
function wrote(shard: ShardContext, partition: number, next: FleetAgent): void {
  shard.view.byId.set(next.agent_id, next);
  shard.cache.written(partition, next);
  shard.tally.written.add(partition);
  shard.tally.agentsWritten++;
}

/**
 * Misses in partitions this poll did not answer for in full (a chunk GSE failed): the partition's
 * count of polls does not move, so a miss counted without a write is written after all, and one
 * written is renumbered: both as of the polls before this one, which the next complete poll follows.
 */
export async function writeDeferred(shard: ShardContext): Promise<void> {
  const { tally, view, job } = shard;
  const incomplete = (id: string): boolean => {
    const p = view.partitionOfId.get(id) ?? 0;
    return tally.failed.has(p) && !tally.leftover.has(p);
  };
  const due = [...tally.deferred, ...tally.counted].filter(([id]) => incomplete(id));
  await Promise.all(
    due.map(([id, update]) =>
      shard.writeLimit(async () => {
        const agent = view.byId.get(id);
        const partition = view.partitionOfId.get(id) ?? 0;
        const renumbered = { ...update, miss_seq: view.pollsBefore.get(partition) ?? 0 };
        if (agent === undefined) return;
        const answer = await writeAgent(shard, agent, renumbered);
        if (answer === "written") wrote(shard, partition, applyUpdate(agent, renumbered, job.at));
        else if (answer !== "conflict") logWriteFailure(shard, agent.agent_id, answer.error);
      }),
    ),
  );
}

/** A write that threw: not known to be stored (the SDK's retries spent, or its answer lost). */
interface WriteError {
  readonly error: unknown;
}

/**
 * Write: the agent's change (and the mark of the alert it owes). A conflict is counted (the item
 * is not the one read); an error is returned to the caller, which tells a failure from a write
 * that landed all the same (markLanded) before it logs or counts it.
 */
async function writeAgent(shard: ShardContext, agent: FleetAgent, update: MarkedUpdate): Promise<"written" | "conflict" | WriteError> {
  const { deps, job, tally } = shard;
  try {
    if (await deps.store.updateAgent(agent, update, job.at, shard.calls)) return "written";
  } catch (error) {
    return { error };
  }
  // The item is not what this shard holds (unregistered, or written by another): read afresh next poll.
  tally.conflicts++;
  shard.cache.drop([shard.view.partitionOfId.get(agent.agent_id) ?? 0]);
  return "conflict";
}

/**
 * A write not stored: counted, and the shard's first logged as an error. If it was not written, the
 * next poll sees the same change and records it then.
 */
function logWriteFailure(shard: ShardContext, agentId: string, error: unknown): void {
  const { deps, job, tally } = shard;
  tally.writeFailures++;
  if (tally.writeFailures === 1) deps.logger?.error("heartbeat agent write failed", { poll_id: job.poll_id, agent_id: agentId, error: describeError(error) });
}

/**
 * A write that threw and was found stored on reading it back: no failure (its transition and alert
 * are counted), but the ambiguous answer is worth a line: a DynamoDB or network fault the SDK rode out.
 */
function landedAfterError(shard: ShardContext, agentId: string, error: unknown): void {
  const { deps, job, tally } = shard;
  tally.landedAfterError++;
  if (tally.landedAfterError === 1)
    deps.logger?.warn("heartbeat agent write landed after an ambiguous answer (read back)", {
      poll_id: job.poll_id,
      agent_id: agentId,
      error: describeError(error),
    });
}

interface WrittenTransition {
  /** The agent as read, and as written. */
  readonly previous: FleetAgent;
  readonly next: FleetAgent;
  /** GSE's raw record of the agent that made it (or the last one it gave). */
  readonly record: FleetAgent["record"];
  readonly transition: Transition;
}

/** A transition's GSE state as the alerts count it: `5 upgrading`, or the class when GSE gave no code. */
const stateKey = (t: Transition): string => (t.statusCode !== undefined ? `${t.statusCode} ${t.statusName ?? ""}`.trim() : t.statusClass);

/** Tally: a written transition counted by kind, in its alert's tally, and in history (unless told not to). */
function tallyTransition(shard: ShardContext, written: WrittenTransition, options: { readonly history: boolean } = { history: true }): void {
  const { job, tally } = shard;
  const { previous, next, record, transition: t } = written;
  tally.transitions[t.kind]++;
  const alertKind = alertOf(t);
  if (alertKind !== undefined) {
    const alert = tally.alerts[alertKind];
    alert.count++;
    alert.states[stateKey(t)] = (alert.states[stateKey(t)] ?? 0) + 1;
    keepInSample(alert.sample, sampleOf(shard.view, next, record, t), shard.deps.settings.alertSample);
  }
  tally.transitioned.add(previous.agent_id);
  if (!options.history) return;
  tally.history.push({
    agent_id: previous.agent_id,
    kind: t.kind,
    at: job.at,
    poll_id: job.poll_id,
    from: t.from,
    to: t.to,
    ...(t.previousVersion !== undefined ? { previous_version: t.previousVersion } : {}),
    ...(t.version !== undefined ? { version: t.version } : {}),
    ...(t.statusCode !== undefined ? { status_code: t.statusCode } : {}),
    ...(t.statusName !== undefined ? { status_name: t.statusName } : {}),
    status_class: t.statusClass,
    ...(record !== undefined ? { record: { ...record } } : {}),
  });
}

/**
 * The alert's sample keeps the `size` agents first by id: the poll's alert samples the first ones
 * of all its shards' (finish.ts), whichever order the writes landed in.
 */
function keepInSample(sample: SampleEntry[], entry: SampleEntry, size: number): void {
  sample.push(entry);
  sample.sort((a, b) => a.agent_id.localeCompare(b.agent_id));
  if (sample.length > size) sample.length = size;
}

function sampleOf(view: ShardView, agent: FleetAgent, record: FleetAgent["record"], t: Transition): SampleEntry {
  // An unregistered agent (recalled from the poll's owed items) is in no partition the shard read.
  const seen = lastSeen(agent, view.polledAt.get(view.partitionOfId.get(agent.agent_id) ?? partitionOf(agent.agent_id)));
  return {
    agent_id: agent.agent_id,
    status: agent.status,
    last_seen: seen === undefined ? null : new Date(seen).toISOString(),
    ...(agent.version !== undefined ? { version: agent.version } : {}),
    ...(t.previousVersion !== undefined ? { previous_version: t.previousVersion } : {}),
    status_code: t.statusCode ?? null,
    status_class: t.statusClass,
    ...(t.statusName !== undefined ? { status_name: t.statusName } : {}),
    ...(t.kind === "stuck" && agent.transitional_since !== undefined ? { transitional_since: new Date(agent.transitional_since).toISOString() } : {}),
    record: record === undefined ? null : { ...record },
  };
}

/** Write the shard's transitions into history and mark the partitions it polled in full. */
export async function recordHistory(shard: ShardContext): Promise<void> {
  const { deps, job, tally, calls } = shard;
  if (tally.history.length) {
    const unwritten = await deps.store.putTransitions(tally.history, Math.floor(job.at / 1000) + deps.settings.evictAfterSeconds, calls);
    // The agents' state is written and the alerts still go out; only their history misses these.
    if (unwritten > 0) deps.logger?.error("heartbeat transitions not recorded in history", { poll_id: job.poll_id, unwritten });
  }
  const complete = job.partitions.filter((p) => !tally.leftover.has(p) && !tally.failed.has(p));
  shard.cache.bumped(await deps.store.markPolled(complete, job.at, calls, [...tally.written]));
}

type FleetView = Pick<ShardResult, "agents" | "by_status" | "by_class" | "suspect" | "by_version">;

/** Tally the fleet view this shard answers for; leftover partitions are counted by their own shard. */
export function countFleetView(view: ShardView, leftover: ReadonlySet<number>): FleetView {
  const byStatus = emptyStatusCounts();
  const byClass = emptyClassCounts();
  const byVersion: Record<string, number> = {};
  let suspect = 0;
  let counted = 0;
  for (const agent of view.byId.values()) {
    if (leftover.has(view.partitionOfId.get(agent.agent_id) ?? 0)) continue;
    counted++;
    byStatus[agent.status]++;
    const statusClass = classOfAgent(agent);
    if (statusClass !== undefined) byClass[statusClass]++;
    if (isSuspect(agent)) suspect++;
    if (agent.version !== undefined) byVersion[agent.version] = (byVersion[agent.version] ?? 0) + 1;
  }
  return { agents: counted, by_status: byStatus, by_class: byClass, suspect, by_version: byVersion };
}

/** The shard's result, from its tallies and its fleet view. */
export function shardResultOf(shard: ShardContext, timing: { readonly chunksMs: number }): ShardResult {
  const { deps, job, tally, view, calls } = shard;
  const fleetView = countFleetView(view, tally.leftover);
  return {
    shard: job.shard,
    partitions: job.partitions,
    agents: fleetView.agents,
    polled: tally.polled,
    gse_calls: tally.gseCalls,
    gse_failed_chunks: tally.failedChunks,
    ...(tally.gseError !== undefined ? { gse_error: tally.gseError } : {}),
    not_askable: view.agents - view.askable.length,
    writes: calls.writes,
    write_units: calls.writeUnits,
    agents_written: tally.agentsWritten,
    partitions_read: view.partitionsRead,
    write_conflicts: tally.conflicts,
    write_failures: tally.writeFailures,
    transitions: tally.transitions,
    alerts: tally.alerts,
    by_status: fleetView.by_status,
    by_class: fleetView.by_class,
    suspect: fleetView.suspect,
    by_version: fleetView.by_version,
    leftover_partitions: [...tally.leftover].sort((a, b) => a - b),
    read_ms: view.readMs,
    chunks_ms: timing.chunksMs,
    duration_ms: deps.now() - shard.started,
  };
}

/**
 * Stores the result under the poll, queues leftover partitions as one more shard, and counts
 * this shard done. Returns the poll's shards still running (undefined when the count is lost).
 */
export async function recordShard(deps: HeartbeatDeps, job: HeartbeatShardJob, result: ShardResult, calls: FleetCalls): Promise<number | undefined> {
  const { store } = deps;
  if (result.leftover_partitions.length > 0) {
    // Counted as running before this shard counts itself done, so the poll cannot finish early.
    await store.addPending(job.poll_id, 1, calls);
    await deps.enqueue({ type: HEARTBEAT_SHARD_JOB, poll_id: job.poll_id, at: job.at, shard: `${job.shard}+`, partitions: result.leftover_partitions });
  }
  // The first result of a shard wins: a redelivered job re-observes changes already written and would record none.
  await store.putNew(
    { pk: `poll#${job.poll_id}`, sk: `shard#${job.shard}`, ...result, expires_at: Math.floor(deps.now() / 1000) + POLL_RECORD_RETENTION_SECONDS },
    calls,
  );
  const pending = await store.shardDone(job.poll_id, job.shard, calls);
  deps.logger?.info("heartbeat shard", {
    poll_id: job.poll_id,
    pending,
    ...result,
    alerts: Object.fromEntries(TRANSITION_ALERT_KINDS.map((k) => [k, result.alerts[k]?.count ?? 0])),
    by_version: undefined,
  });
  return pending;
}
