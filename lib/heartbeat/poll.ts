/**
 * One heartbeat poll. The scheduled function starts it (startPoll): it plans how many shards the
 * fleet needs to fit the time budget (from the last poll's cost), queues all but the first on the
 * automation queue and runs the first itself. A shard (runShard) reads its partitions of the fleet,
 * asks GSE in chunks of ≤1000 ids with bounded concurrency, applies lib/heartbeat/rules.ts and
 * writes only the agents that changed (conditional on the rev it read, each with the mark of the
 * alert it owes: alert-marks.ts) plus their transitions.
 * Chunks it could not start within the budget go back to the queue as one more shard instead of
 * running late. The last shard to finish (finish.ts) aggregates every shard's result, writes the
 * fleet summary and publishes one alert per kind. A chunk GSE did not answer changes no agent:
 * GSE unreachable is one alert, not a fleet of lost agents.
 *
 * The shard's steps are in shard.ts (read, observe, decide, write, tally, record) and observe.ts.
 */
import pLimit from "p-limit";
import * as z from "zod";
import { chunk } from "../dynamo/batch.ts";
import { FLEET_PARTITIONS, newFleetCalls, type FleetCalls, type FleetStore } from "../fleet/store.ts";
import { finishPoll } from "./finish.ts";
import type { HeartbeatDeps, HeartbeatSettings } from "./settings.ts";
import {
  newShardTally,
  pollChunk,
  readShard,
  recallMarks,
  recordHistory,
  recordShard,
  shardCache,
  shardResultOf,
  writeDeferred,
  type ShardContext,
} from "./shard.ts";
import { HEARTBEAT_SHARD_JOB, POLL_RECORD_RETENTION_SECONDS, type HeartbeatShardJob, type ShardRun } from "./shard-job.ts";

// The heartbeat's entry points import these from here (functions/heartbeat.ts, functions/automation.ts, jobs.ts).
export { assertBudgetFits, heartbeatSettings, type HeartbeatDeps, type HeartbeatSettings } from "./settings.ts";
export { HEARTBEAT_SHARD_JOB, heartbeatShardJobSchema, type HeartbeatShardJob } from "./shard-job.ts";

/** A shard aims at this share of the budget, so a slower GSE than last time still fits. */
const PLAN_SHARE_OF_BUDGET = 0.5;

const plannerSchema = z.object({ fleet_size: z.int(), ms_per_agent: z.number() });

/** Shards needed for the fleet to fit the budget, judged by the last poll's size and cost. */
export function planShards(planner: unknown, settings: Pick<HeartbeatSettings, "budgetMs">): number {
  const parsed = plannerSchema.safeParse(planner);
  if (!parsed.success) return 1;
  const estimateMs = parsed.data.fleet_size * parsed.data.ms_per_agent;
  return Math.min(FLEET_PARTITIONS, Math.max(1, Math.ceil(estimateMs / (settings.budgetMs * PLAN_SHARE_OF_BUDGET))));
}

/** Shard i of n: the partitions p with p mod n = i. */
export const shardPartitions = (i: number, n: number): number[] => Array.from({ length: FLEET_PARTITIONS }, (_, p) => p).filter((p) => p % n === i);

export interface StartResult {
  readonly pollId: string;
  /** Another invocation already started this poll (EventBridge delivers at least once). */
  readonly duplicate: boolean;
  readonly shards: number;
  readonly first?: ShardRun;
  /** DynamoDB work of the start itself (the planner's figures, the poll's run item); the first shard counts its own. */
  readonly calls: FleetCalls;
}

/** The scheduled entry: one poll per schedule tick, `at` its time (the event's `time`). */
export async function startPoll(deps: HeartbeatDeps, at: number): Promise<StartResult> {
  const calls = newFleetCalls();
  const pollId = new Date(at).toISOString();
  const shards = planShards(await deps.store.getMeta("planner", calls), deps.settings);
  const created = await deps.store.putNew(
    {
      pk: `poll#${pollId}`,
      sk: "run",
      pending: shards,
      shards,
      at,
      started_at: deps.now(),
      expires_at: Math.floor(deps.now() / 1000) + POLL_RECORD_RETENTION_SECONDS,
    },
    calls,
  );
  const jobOf = (i: number, n: number): HeartbeatShardJob => ({
    type: HEARTBEAT_SHARD_JOB,
    poll_id: pollId,
    at,
    shard: String(i),
    partitions: shardPartitions(i, n),
  });
  if (!created) {
    // A retry of an invocation that failed (Lambda retries a failed scheduled run) resumes the
    // first shard; a duplicate delivered while the first is still within its budget does nothing.
    const run = (await deps.store.pollItems(pollId, calls)).find((item) => item.sk === "run");
    const done = run?.done instanceof Set ? run.done : new Set();
    const startedAt = typeof run?.started_at === "number" ? run.started_at : deps.now();
    const planned = typeof run?.shards === "number" ? run.shards : shards;
    if (run === undefined || done.has("0") || deps.now() - startedAt <= deps.settings.budgetMs) {
      deps.logger?.warn("heartbeat poll already started; this invocation does nothing", { poll_id: pollId });
      return { pollId, duplicate: true, shards: planned, calls };
    }
    deps.logger?.warn("heartbeat poll resumed: its first shard never finished", { poll_id: pollId });
    return { pollId, duplicate: false, shards: planned, first: await runShard(deps, jobOf(0, planned)), calls };
  }
  const jobs = Array.from({ length: shards }, (_, i) => jobOf(i, shards));
  await Promise.all(jobs.slice(1).map((job) => deps.enqueue(job)));
  const first = await runShard(deps, jobs[0] as HeartbeatShardJob);
  return { pollId, duplicate: false, shards, first, calls };
}

/**
 * One shard of a poll, from the queue or the first one from the scheduled function: read, then
 * per chunk observe → decide → write → tally, then record; the last shard of a poll finishes it.
 */
export async function runShard(deps: HeartbeatDeps, job: HeartbeatShardJob): Promise<ShardRun> {
  const { settings, store } = deps;
  const started = deps.now();
  const calls = newFleetCalls();
  const cache = shardCache(deps);
  const tally = newShardTally();
  let shard: ShardContext;
  let chunksMs: number;
  try {
    const view = await readShard(deps, job, started, calls);
    shard = { deps, job, started, calls, view, tally, writeLimit: pLimit(settings.writeConcurrency), cache };
    const gseLimit = pLimit(settings.concurrency);
    await Promise.all(chunk(view.askable, settings.chunkSize).map((ids) => gseLimit(() => pollChunk(shard, ids))));
    await writeDeferred(shard);
    await recallMarks(shard);
    chunksMs = deps.now() - started - view.readMs;
    await recordHistory(shard);
  } catch (error) {
    // What this instance holds of these partitions may be ahead of their revisions or behind the
    // table: it reads them again, and tells other instances (best effort: the periodic re-read is the backstop).
    cache.drop(job.partitions);
    await store.bumpPartitions([...tally.written], calls).catch(() => undefined);
    throw error;
  }
  const result = shardResultOf(shard, { chunksMs });
  recordTransitions(deps, shard.tally.transitions);
  const pending = await recordShard(deps, job, result, calls);
  let finished = false;
  if (pending === 0 || (pending === undefined && (await pollUnfinished(store, job.poll_id, calls)))) {
    await finishPoll(deps, job.poll_id, calls);
    finished = true;
  }
  return { result, calls, finished };
}

/** What the shard changed, by transition kind (kinds with none are not sent). */
function recordTransitions(deps: HeartbeatDeps, transitions: Readonly<Record<string, number>>): void {
  for (const [kind, count] of Object.entries(transitions)) if (count > 0) deps.metrics?.add("HeartbeatTransitions", count, { kind });
}

async function pollUnfinished(store: FleetStore, pollId: string, calls: FleetCalls): Promise<boolean> {
  const run = (await store.pollItems(pollId, calls)).find((item) => item.sk === "run");
  return run !== undefined && run.pending === 0 && run.finished_at === undefined;
}
