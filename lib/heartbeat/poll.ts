/**
 * One heartbeat poll. The scheduled function starts it (startPoll): it plans how many shards the
 * fleet needs to fit the time budget (from the last poll's cost), queues all but the first on the
 * automation queue and runs the first itself. A shard (runShard) reads its partitions of the fleet,
 * asks GSE in chunks of ≤1000 ids with bounded concurrency, applies lib/heartbeat/rules.ts and
 * writes only the agents that changed (conditional on the rev it read) plus their transitions.
 * Chunks it could not start within the budget go back to the queue as one more shard instead of
 * running late. The last shard to finish (finishPoll) aggregates every shard's result, writes the
 * fleet summary and publishes one alert per kind. A chunk GSE did not answer changes no agent:
 * GSE unreachable is one alert, not a fleet of lost agents.
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import type { SNSClient } from "@aws-sdk/client-sns";
import pLimit from "p-limit";
import { z } from "zod";
import { factsFromGetAgentStatus, factsFromListAgentState, parseLegacyId } from "../agent-state/lookup.ts";
import { JOB_TYPES } from "../automation/job-types.ts";
import type { Config } from "../core/config.ts";
import { withinTime } from "../core/deadline.ts";
import { GseError } from "../core/errors.ts";
import type { GseClient } from "../gse/client.ts";
import { GSE_AGENT_NONE_FOUND_CODE, type Host } from "../gse/schemas.ts";
import { chunk } from "../dynamo/batch.ts";
import {
  FLEET_PARTITIONS,
  FLEET_STATUSES,
  newFleetCalls,
  partitionOf,
  TRANSITION_KINDS,
  type FleetAgent,
  type FleetCalls,
  type FleetStore,
  type FleetSummary,
  type TransitionKind,
  type TransitionRecord,
} from "../fleet/store.ts";
import { fleetStatsItem } from "../fleet/log-items.ts";
import {
  ALERT_OF_TRANSITION,
  heartbeatAlert,
  publishAlert,
  sampleEntrySchema,
  TRANSITION_ALERT_KINDS,
  type AlertKind,
  type HeartbeatAlert,
  type SampleEntry,
  type TransitionAlertKind,
} from "./alerts.ts";
import { applyUpdate, classOfAgent, isOutdated, isSuspect, lastSeen, observe, type Observation, type Transition } from "./rules.ts";
import { STATUS_CLASSES, statusClassSchema, type StatusClass } from "./status-class.ts";

/** GSE answers at most 1000 ids per list_agent_state call (gse-api.md §10b.3). */
export const MAX_CHUNK = 1000;
/** A shard aims at this share of the budget, so a slower GSE than last time still fits. */
const PLAN_SHARE_OF_BUDGET = 0.5;
const POLL_RECORD_RETENTION_SECONDS = 2 * 86_400;
/**
 * A GSE call still unanswered at this multiple of the budget counts as failed. assertBudgetFits
 * keeps the budget at most 80 % of the timeout, so this is at most the timeout itself, and the
 * client's retries of a slow GSE cannot make the function time out before it records its result.
 */
const HARD_DEADLINE_FACTOR = 1.1;

export class PollDeadlineError extends Error {
  constructor(ms: number) {
    super(`GSE did not answer within the poll's time (${Math.round(ms)} ms left)`);
    this.name = "PollDeadlineError";
  }
}

/** `work`, or a PollDeadlineError after `ms` of real time (Lambda's timeout is real time too). */
export const withDeadline = <T>(work: Promise<T>, ms: number): Promise<T> => withinTime(work, ms, () => new PollDeadlineError(ms));

export interface HeartbeatSettings {
  readonly chunkSize: number;
  readonly concurrency: number;
  readonly useNewAgentStatusApi: boolean;
  readonly lostAfterPolls: number;
  /** How long an agent may stay transitional before it is stuck (HEARTBEAT_TRANSITIONAL_GRACE_MINUTES). */
  readonly transitionalGraceMs: number;
  readonly budgetMs: number;
  readonly evictAfterSeconds: number;
  readonly alertSample: number;
  readonly alertDedupMs: number;
  readonly minVersion?: string;
  /** Conditional writes in flight per shard. */
  readonly writeConcurrency: number;
}

export const heartbeatSettings = (config: Config): HeartbeatSettings => ({
  chunkSize: Math.min(config.gse.agentChunkSize, MAX_CHUNK),
  concurrency: config.gse.concurrency,
  useNewAgentStatusApi: config.gse.useNewAgentStatusApi,
  lostAfterPolls: config.heartbeat.lostAfterPolls,
  transitionalGraceMs: config.heartbeat.transitionalGraceMinutes * 60_000,
  budgetMs: config.heartbeat.budgetSeconds * 1000,
  evictAfterSeconds: config.heartbeat.evictAfterDays * 86_400,
  alertSample: config.heartbeat.alertSample,
  alertDedupMs: config.heartbeat.alertDedupMinutes * 60_000,
  ...(config.heartbeat.minVersion !== undefined ? { minVersion: config.heartbeat.minVersion } : {}),
  writeConcurrency: 16,
});

/** A budget that does not leave the function time to finish after it is a deployment mistake. */
export function assertBudgetFits(settings: Pick<HeartbeatSettings, "budgetMs">, timeoutSeconds: number): void {
  if (settings.budgetMs > 0.8 * timeoutSeconds * 1000) {
    throw new Error(`HEARTBEAT_BUDGET_SECONDS (${settings.budgetMs / 1000}) must stay below 80 % of the heartbeat timeout (${timeoutSeconds} s)`);
  }
}

export const HEARTBEAT_SHARD_JOB = JOB_TYPES.heartbeatShard;

/** A shard of a poll on the automation queue. */
export const heartbeatShardJobSchema = z.object({
  type: z.literal(HEARTBEAT_SHARD_JOB),
  poll_id: z.string().min(1).max(64),
  /** The poll's time (ms): what every shard of it counts as "seen at". */
  at: z.number().int().nonnegative(),
  shard: z.string().min(1).max(64),
  partitions: z.array(z.int().min(0).max(FLEET_PARTITIONS - 1)).min(1).max(FLEET_PARTITIONS),
});
export type HeartbeatShardJob = z.infer<typeof heartbeatShardJobSchema>;

export interface HeartbeatDeps {
  readonly store: FleetStore;
  readonly gse: Pick<GseClient, "call">;
  readonly sns: SNSClient;
  readonly topicArn: string;
  /** Puts a shard job on the automation queue. */
  readonly enqueue: (job: HeartbeatShardJob) => Promise<void>;
  readonly now: () => number;
  readonly settings: HeartbeatSettings;
  readonly logger?: Logger;
}

/** One alert kind's share of a poll: how many agents, a sample of them, and how many per GSE state (`5 upgrading`). */
const tallySchema = z.object({ count: z.int().nonnegative(), sample: z.array(sampleEntrySchema), states: z.record(z.string(), z.int()).default({}) });
type Tally = z.infer<typeof tallySchema>;

/** What one shard did; stored under the poll so the last shard can aggregate. */
export const shardResultSchema = z.object({
  shard: z.string(),
  partitions: z.array(z.int()),
  agents: z.int(),
  polled: z.int(),
  gse_calls: z.int(),
  gse_failed_chunks: z.int(),
  gse_error: z.string().optional(),
  /** Ids the legacy call cannot address (2.0 ids with USE_GSE_AGENT_STATUS_NEW_API off): left as they are. */
  not_askable: z.int(),
  writes: z.int(),
  write_units: z.number(),
  write_conflicts: z.int(),
  /** Agent writes DynamoDB refused after the SDK's retries; those changes are seen again by the next poll. */
  write_failures: z.int(),
  /** Every transition recorded in history, by kind (news too). */
  transitions: z.partialRecord(z.enum(TRANSITION_KINDS), z.int()),
  /** What the poll alerts from this shard's transitions, by alert kind. */
  alerts: z.partialRecord(z.enum(TRANSITION_ALERT_KINDS), tallySchema),
  by_status: z.record(z.enum(FLEET_STATUSES), z.int()),
  by_class: z.partialRecord(statusClassSchema, z.int()).default({}),
  suspect: z.int(),
  by_version: z.record(z.string(), z.int()),
  leftover_partitions: z.array(z.int()),
  /** Reading the shard's partitions; asking GSE and writing the changes, chunk by chunk; the whole shard. */
  read_ms: z.number(),
  chunks_ms: z.number(),
  duration_ms: z.number(),
});
export type ShardResult = z.infer<typeof shardResultSchema>;


const plannerSchema = z.object({ fleet_size: z.int(), ms_per_agent: z.number() });

/** Shards needed for the fleet to fit the budget, judged by the last poll's size and cost. */
export function planShards(planner: unknown, settings: Pick<HeartbeatSettings, "budgetMs">): number {
  const parsed = plannerSchema.safeParse(planner);
  if (!parsed.success) return 1;
  const estimateMs = parsed.data.fleet_size * parsed.data.ms_per_agent;
  return Math.min(FLEET_PARTITIONS, Math.max(1, Math.ceil(estimateMs / (settings.budgetMs * PLAN_SHARE_OF_BUDGET))));
}

/** Shard i of n: the partitions p with p mod n = i. */
export const shardPartitions = (i: number, n: number): number[] =>
  Array.from({ length: FLEET_PARTITIONS }, (_, p) => p).filter((p) => p % n === i);

export interface StartResult {
  readonly pollId: string;
  /** Another invocation already started this poll (EventBridge delivers at least once). */
  readonly duplicate: boolean;
  readonly shards: number;
  readonly first?: ShardRun;
}

/** The scheduled entry: one poll per schedule tick, `at` its time (the event's `time`). */
export async function startPoll(deps: HeartbeatDeps, at: number): Promise<StartResult> {
  const calls = newFleetCalls();
  const pollId = new Date(at).toISOString();
  const shards = planShards(await deps.store.getMeta("planner", calls), deps.settings);
  const created = await deps.store.putNew(
    { pk: `poll#${pollId}`, sk: "run", pending: shards, shards, at, started_at: deps.now(), expires_at: Math.floor(deps.now() / 1000) + POLL_RECORD_RETENTION_SECONDS },
    calls,
  );
  const jobOf = (i: number, n: number): HeartbeatShardJob => ({ type: HEARTBEAT_SHARD_JOB, poll_id: pollId, at, shard: String(i), partitions: shardPartitions(i, n) });
  if (!created) {
    // A retry of an invocation that failed (Lambda retries a failed scheduled run) resumes the
    // first shard; a duplicate delivered while the first is still within its budget does nothing.
    const run = (await deps.store.pollItems(pollId, calls)).find((item) => item.sk === "run");
    const done = run?.done instanceof Set ? run.done : new Set();
    const startedAt = typeof run?.started_at === "number" ? run.started_at : deps.now();
    const planned = typeof run?.shards === "number" ? run.shards : shards;
    if (run === undefined || done.has("0") || deps.now() - startedAt <= deps.settings.budgetMs) {
      deps.logger?.warn("heartbeat poll already started; this invocation does nothing", { poll_id: pollId });
      return { pollId, duplicate: true, shards: planned };
    }
    deps.logger?.warn("heartbeat poll resumed: its first shard never finished", { poll_id: pollId });
    return { pollId, duplicate: false, shards: planned, first: await runShard(deps, jobOf(0, planned)) };
  }
  const jobs = Array.from({ length: shards }, (_, i) => jobOf(i, shards));
  await Promise.all(jobs.slice(1).map((job) => deps.enqueue(job)));
  const first = await runShard(deps, jobs[0] as HeartbeatShardJob);
  return { pollId, duplicate: false, shards, first };
}

const emptyTallies = (): Record<TransitionAlertKind, Tally> =>
  Object.fromEntries(TRANSITION_ALERT_KINDS.map((k) => [k, { count: 0, sample: [], states: {} }])) as unknown as Record<TransitionAlertKind, Tally>;
const emptyTransitionCounts = (): Record<TransitionKind, number> => Object.fromEntries(TRANSITION_KINDS.map((k) => [k, 0])) as Record<TransitionKind, number>;
const emptyStatusCounts = (): Record<(typeof FLEET_STATUSES)[number], number> =>
  Object.fromEntries(FLEET_STATUSES.map((s) => [s, 0])) as Record<(typeof FLEET_STATUSES)[number], number>;
const emptyClassCounts = (): Record<StatusClass, number> => Object.fromEntries(STATUS_CLASSES.map((c) => [c, 0])) as Record<StatusClass, number>;

/** A transition's GSE state as the alerts count it: `5 upgrading`, or the class when GSE gave no code. */
const stateKey = (t: Transition): string => (t.statusCode !== undefined ? `${t.statusCode} ${t.statusName ?? ""}`.trim() : t.statusClass);

const isNoneFound = (error: unknown): boolean => error instanceof GseError && error.kind === "business" && error.gseCode === GSE_AGENT_NONE_FOUND_CODE;

/** Asks GSE about one chunk; every id gets an observation (omitted ones are unknown). */
export async function observeChunk(gse: Pick<GseClient, "call">, useNewApi: boolean, ids: readonly string[], timeoutMs?: number): Promise<Map<string, Observation>> {
  const options = timeoutMs !== undefined ? { timeoutMs } : {};
  if (useNewApi) {
    let data: Awaited<ReturnType<typeof gse.call<"list_agent_state">>> = [];
    try {
      data = await gse.call("list_agent_state", { agent_id_list: [...ids] }, options);
    } catch (error) {
      // GSE's answer when it knows none of the ids: each is unknown, not a failed call.
      if (!isNoneFound(error)) throw error;
    }
    const records = new Map<string, Record<string, unknown>>();
    for (const item of data) if (!records.has(item.bk_agent_id)) records.set(item.bk_agent_id, item);
    const facts = factsFromListAgentState(ids, data);
    return new Map(ids.map((id) => [id, { facts: facts.get(id) ?? { known: false, source: "list_agent_state", alive: false }, ...(records.has(id) ? { record: records.get(id) } : {}) }]));
  }
  const hosts = ids.map((id) => parseLegacyId(id)).filter((h): h is Host => h !== undefined);
  const data = await gse.call("get_agent_status", { bk_supplier_account: "0", hosts }, options);
  const facts = factsFromGetAgentStatus(ids, data);
  return new Map(
    ids.map((id) => {
      const host = parseLegacyId(id);
      const key = host ? `${host.bk_cloud_id}:${host.ip}` : id;
      const record = Object.hasOwn(data, key) ? data[key] : undefined;
      return [id, { facts: facts.get(id) ?? { known: false, source: "get_agent_status", alive: false }, ...(record ? { record } : {}) }];
    }),
  );
}

export interface ShardRun {
  readonly result: ShardResult;
  readonly calls: FleetCalls;
  /** Whether this shard was the last of its poll and finished it. */
  readonly finished: boolean;
}

const describeError = (error: unknown): string =>
  error instanceof GseError ? `${error.kind}: ${error.message}` : error instanceof Error ? `${error.name}: ${error.message}` : String(error);

/** One shard of a poll: from the queue, or the first one from the scheduled function. */
export async function runShard(deps: HeartbeatDeps, job: HeartbeatShardJob): Promise<ShardRun> {
  const { settings, store } = deps;
  const started = deps.now();
  const calls = newFleetCalls();
  const [polledAt, agents] = await Promise.all([store.polledAt(calls), store.agentsOf(job.partitions, calls)]);
  const readMs = deps.now() - started;
  const byId = new Map(agents.map((a) => [a.agent_id, a]));
  const partitionOfId = new Map(agents.map((a) => [a.agent_id, partitionOf(a.agent_id)]));
  // Chunks follow partitions, so a chunk left over affects as few partitions as possible.
  const askable = agents
    .filter((a) => settings.useNewAgentStatusApi || parseLegacyId(a.agent_id) !== undefined)
    .sort((a, b) => (partitionOfId.get(a.agent_id) ?? 0) - (partitionOfId.get(b.agent_id) ?? 0))
    .map((a) => a.agent_id);

  const alerts = emptyTallies();
  const transitions = emptyTransitionCounts();
  const history: TransitionRecord[] = [];
  const leftover = new Set<number>();
  const failed = new Set<number>();
  let gseCalls = 0;
  let failedChunks = 0;
  let gseError: string | undefined;
  let polled = 0;
  let conflicts = 0;
  let writeFailures = 0;
  const rules = {
    lostAfterPolls: settings.lostAfterPolls,
    evictAfterSeconds: settings.evictAfterSeconds,
    transitionalGraceMs: settings.transitionalGraceMs,
  };
  const gseLimit = pLimit(settings.concurrency);
  const writeLimit = pLimit(settings.writeConcurrency);

  const sampleOf = (agent: FleetAgent, observation: Observation, t: Transition): SampleEntry => {
    const seen = lastSeen(agent, polledAt.get(partitionOfId.get(agent.agent_id) ?? 0));
    const record = observation.record ?? agent.record;
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
  };

  await Promise.all(
    chunk(askable, settings.chunkSize).map((ids) =>
      gseLimit(async () => {
        const partitions = new Set(ids.map((id) => partitionOfId.get(id) ?? 0));
        const elapsed = deps.now() - started;
        if (elapsed >= settings.budgetMs) {
          for (const p of partitions) leftover.add(p);
          return;
        }
        let observations: Map<string, Observation>;
        gseCalls++;
        try {
          // A chunk started just inside the budget may not retry a slow GSE past the function's timeout.
          observations = await withDeadline(observeChunk(deps.gse, settings.useNewAgentStatusApi, ids), settings.budgetMs * HARD_DEADLINE_FACTOR - (deps.now() - started));
        } catch (error) {
          failedChunks++;
          gseError ??= describeError(error);
          for (const p of partitions) failed.add(p);
          deps.logger?.warn("heartbeat chunk not answered by GSE; its agents are left as they were", { poll_id: job.poll_id, ids: ids.length, error: describeError(error) });
          return;
        }
        polled += ids.length;
        await Promise.all(
          ids.map((id) =>
            writeLimit(async () => {
              const agent = byId.get(id);
              const observation = observations.get(id);
              if (agent === undefined || observation === undefined) return;
              const ctx = { pollId: job.poll_id, at: job.at, partitionPolledAt: polledAt.get(partitionOfId.get(id) ?? 0) };
              const outcome = observe(agent, observation, ctx, rules);
              if (outcome.update === undefined) return;
              let written: boolean;
              try {
                written = await store.updateAgent(agent, outcome.update, job.at, calls);
              } catch (error) {
                // Nothing of this agent was written: the next poll sees the same change and records it then.
                writeFailures++;
                if (writeFailures === 1) deps.logger?.error("heartbeat agent write failed", { poll_id: job.poll_id, agent_id: id, error: describeError(error) });
                return;
              }
              if (!written) {
                conflicts++;
                return;
              }
              const next = applyUpdate(agent, outcome.update, job.at);
              byId.set(id, next);
              for (const t of outcome.transitions) {
                transitions[t.kind]++;
                const alertKind = ALERT_OF_TRANSITION[t.kind];
                if (alertKind !== null && t.silent !== true) {
                  const tally = alerts[alertKind];
                  tally.count++;
                  tally.states[stateKey(t)] = (tally.states[stateKey(t)] ?? 0) + 1;
                  if (tally.sample.length < settings.alertSample) tally.sample.push(sampleOf(next, observation, t));
                }
                const record = observation.record ?? agent.record;
                history.push({
                  agent_id: id,
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
            }),
          ),
        );
      }),
    ),
  );
  const chunksMs = deps.now() - started - readMs;
  if (history.length) {
    const unwritten = await store.putTransitions(history, Math.floor(job.at / 1000) + settings.evictAfterSeconds, calls);
    // The agents' state is written and the alerts still go out; only their history misses these.
    if (unwritten > 0) deps.logger?.error("heartbeat transitions not recorded in history", { poll_id: job.poll_id, unwritten });
  }

  const complete = job.partitions.filter((p) => !leftover.has(p) && !failed.has(p));
  await store.markPolled(complete, job.at, calls);

  // The fleet view counts what this shard is answerable for; leftover partitions are counted by their own shard.
  const byStatus = emptyStatusCounts();
  const byClass = emptyClassCounts();
  const byVersion: Record<string, number> = {};
  let suspect = 0;
  let counted = 0;
  for (const agent of byId.values()) {
    if (leftover.has(partitionOfId.get(agent.agent_id) ?? 0)) continue;
    counted++;
    byStatus[agent.status]++;
    const statusClass = classOfAgent(agent);
    if (statusClass !== undefined) byClass[statusClass]++;
    if (isSuspect(agent)) suspect++;
    if (agent.version !== undefined) byVersion[agent.version] = (byVersion[agent.version] ?? 0) + 1;
  }

  const result: ShardResult = {
    shard: job.shard,
    partitions: job.partitions,
    agents: counted,
    polled,
    gse_calls: gseCalls,
    gse_failed_chunks: failedChunks,
    ...(gseError !== undefined ? { gse_error: gseError } : {}),
    not_askable: agents.length - askable.length,
    writes: calls.writes,
    write_units: calls.writeUnits,
    write_conflicts: conflicts,
    write_failures: writeFailures,
    transitions,
    alerts,
    by_status: byStatus,
    by_class: byClass,
    suspect,
    by_version: byVersion,
    leftover_partitions: [...leftover].sort((a, b) => a - b),
    read_ms: readMs,
    chunks_ms: chunksMs,
    duration_ms: deps.now() - started,
  };

  if (leftover.size > 0) {
    // Counted as running before this shard counts itself done, so the poll cannot finish early.
    await store.addPending(job.poll_id, 1, calls);
    await deps.enqueue({ type: HEARTBEAT_SHARD_JOB, poll_id: job.poll_id, at: job.at, shard: `${job.shard}+`, partitions: result.leftover_partitions });
  }
  // The first result of a shard wins: a redelivered job re-observes changes already written and would record none.
  await store.putNew({ pk: `poll#${job.poll_id}`, sk: `shard#${job.shard}`, ...result, expires_at: Math.floor(deps.now() / 1000) + POLL_RECORD_RETENTION_SECONDS }, calls);
  const pending = await store.shardDone(job.poll_id, job.shard, calls);
  deps.logger?.info("heartbeat shard", { poll_id: job.poll_id, pending, ...result, alerts: Object.fromEntries(TRANSITION_ALERT_KINDS.map((k) => [k, alerts[k].count])), by_version: undefined });
  let finished = false;
  if (pending === 0 || (pending === undefined && (await pollUnfinished(store, job.poll_id, calls)))) {
    await finishPoll(deps, job.poll_id, calls);
    finished = true;
  }
  return { result, calls, finished };
}

async function pollUnfinished(store: FleetStore, pollId: string, calls: FleetCalls): Promise<boolean> {
  const run = (await store.pollItems(pollId, calls)).find((item) => item.sk === "run");
  return run !== undefined && run.pending === 0 && run.finished_at === undefined;
}

export interface PollOutcome {
  readonly summary: FleetSummary;
  readonly alerts: readonly HeartbeatAlert[];
  /** Of those, the ones actually published (the rest were duplicates). */
  readonly published: readonly AlertKind[];
}

/**
 * A point of the status page's 24-hour chart (lib/fleet/log-items.ts): written by the first
 * poll of each FLEET_STATS_EVERY_MINUTES period only (a conditional put on the period's key). A
 * chart point is not worth a poll's alerts: a failure is logged and the poll goes on.
 */
async function recordFleetStats(deps: HeartbeatDeps, summary: FleetSummary, at: number, calls: FleetCalls): Promise<void> {
  try {
    await deps.store.putNew(fleetStatsItem(summary, at), calls);
  } catch (error) {
    deps.logger?.warn("could not record the fleet's status snapshot", { poll_id: summary.poll_id, error: error instanceof Error ? error.message : String(error) });
  }
}

/** What a `stuck` alert says beside its sample: the grace, and the agents per state, most first (`5 upgrading ×3`). */
function stuckDetail(tally: Tally, settings: HeartbeatSettings): string {
  const minutes = Math.round(settings.transitionalGraceMs / 60_000);
  const states = Object.entries(tally.states)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([state, n]) => `${state} ×${n}`);
  return `transitional for ${minutes} min or more (HEARTBEAT_TRANSITIONAL_GRACE_MINUTES): ${states.join(", ")}`;
}

/** Aggregates a poll's shards: the fleet summary, then one alert per kind with something to say. */
export async function finishPoll(deps: HeartbeatDeps, pollId: string, calls: FleetCalls = newFleetCalls()): Promise<PollOutcome> {
  const { settings, store } = deps;
  const items = await store.pollItems(pollId, calls);
  const run = items.find((item) => item.sk === "run");
  const shards = items.flatMap((item) => {
    const parsed = shardResultSchema.safeParse(item);
    return typeof item.sk === "string" && item.sk.startsWith("shard#") && parsed.success ? [parsed.data] : [];
  });
  const at = typeof run?.at === "number" ? run.at : Date.parse(pollId);
  const startedAt = typeof run?.started_at === "number" ? run.started_at : at;

  const byStatus = emptyStatusCounts();
  const byClass = emptyClassCounts();
  const versions = new Map<string, number>();
  const tallies = emptyTallies();
  let agents = 0;
  let suspect = 0;
  let gseCalls = 0;
  let failedChunks = 0;
  let gseError: string | undefined;
  let worstMsPerAgent = 0;
  for (const shard of shards) {
    agents += shard.agents;
    suspect += shard.suspect;
    gseCalls += shard.gse_calls;
    failedChunks += shard.gse_failed_chunks;
    gseError ??= shard.gse_error;
    for (const status of FLEET_STATUSES) byStatus[status] += shard.by_status[status] ?? 0;
    for (const statusClass of STATUS_CLASSES) byClass[statusClass] += shard.by_class[statusClass] ?? 0;
    for (const [version, n] of Object.entries(shard.by_version)) versions.set(version, (versions.get(version) ?? 0) + n);
    for (const kind of TRANSITION_ALERT_KINDS) {
      const tally = shard.alerts[kind];
      if (!tally) continue;
      tallies[kind].count += tally.count;
      tallies[kind].sample.push(...tally.sample);
      for (const [state, n] of Object.entries(tally.states)) tallies[kind].states[state] = (tallies[kind].states[state] ?? 0) + n;
    }
    if (shard.polled > 0) worstMsPerAgent = Math.max(worstMsPerAgent, shard.duration_ms / shard.polled);
  }
  const byVersion = [...versions.entries()]
    .map(([version, count]) => ({ version, count, outdated: isOutdated(version, settings.minVersion) }))
    .sort((a, b) => b.count - a.count || a.version.localeCompare(b.version));
  const summary: FleetSummary = {
    poll_id: pollId,
    as_of: new Date(at).toISOString(),
    duration_ms: deps.now() - startedAt,
    shards: shards.length,
    agents,
    by_status: byStatus,
    by_class: byClass,
    suspect,
    by_version: byVersion,
    outdated: byVersion.filter((v) => v.outdated).reduce((n, v) => n + v.count, 0),
    min_version: settings.minVersion ?? null,
    gse_calls: gseCalls,
    gse_failed_chunks: failedChunks,
  };
  await store.putMeta("summary", summary, calls);
  await recordFleetStats(deps, summary, at, calls);
  if (agents > 0) await store.putMeta("planner", { fleet_size: agents, ms_per_agent: worstMsPerAgent, poll_id: pollId }, calls);

  const alertDeps = { store, sns: deps.sns, topicArn: deps.topicArn, now: deps.now, dedupMs: settings.alertDedupMs };
  const base = { source: "gse-control/heartbeat" as const, poll_id: pollId, at: new Date(at).toISOString() };
  const alerts: HeartbeatAlert[] = [];
  const published: AlertKind[] = [];
  if (failedChunks > 0) {
    // One alert per outage: the marker stays while polls keep failing, and goes with the first clean poll.
    const opened = await store.createMeta("gse_outage", { since: at, poll_id: pollId, detail: gseError ?? "" }, calls);
    const alert = heartbeatAlert("gse_unreachable", {
      ...base,
      count: failedChunks,
      sample: [],
      truncated: false,
      detail: `${failedChunks} of ${gseCalls} GSE calls failed (${gseError ?? "unknown error"}); no agent was marked lost for it`,
    });
    alerts.push(alert);
    if (opened && (await publishAlert(alertDeps, alert, calls, `outage-${pollId}`))) published.push(alert.kind);
  } else if (gseCalls > 0 && (await store.deleteMeta("gse_outage", calls))) {
    const alert = heartbeatAlert("gse_reachable", { ...base, count: 0, sample: [], truncated: false, detail: "a poll was answered in full again" });
    alerts.push(alert);
    if (await publishAlert(alertDeps, alert, calls, `reachable-${pollId}`)) published.push(alert.kind);
  }
  for (const kind of TRANSITION_ALERT_KINDS) {
    const tally = tallies[kind];
    if (tally.count === 0) continue;
    const sample = tally.sample.sort((a, b) => a.agent_id.localeCompare(b.agent_id)).slice(0, settings.alertSample);
    const detail = kind === "stuck" ? stuckDetail(tally, settings) : undefined;
    const alert = heartbeatAlert(kind, { ...base, count: tally.count, sample, truncated: tally.count > sample.length, ...(detail !== undefined ? { detail } : {}) });
    alerts.push(alert);
    if (await publishAlert(alertDeps, alert, calls)) published.push(kind);
  }
  await store.markFinished(pollId, deps.now(), calls);
  deps.logger?.info("heartbeat poll finished", { ...summary, by_version: undefined, alerts: alerts.map((a) => a.kind), published });
  return { summary, alerts, published };
}
