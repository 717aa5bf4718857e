/**
 * What a poll keeps between its invocations: the shard job on the automation queue, and the
 * result each shard stores under the poll for the last one to aggregate (finish.ts).
 */
import * as z from "zod";
import { JOB_TYPES } from "../automation/job-types.ts";
import { FLEET_PARTITIONS, FLEET_STATUSES, TRANSITION_KINDS, type FleetCalls, type FleetStatus, type TransitionKind } from "../fleet/store.ts";
import { sampleEntrySchema, TRANSITION_ALERT_KINDS, type TransitionAlertKind } from "./alerts.ts";
import { STATUS_CLASSES, statusClassSchema, type StatusClass } from "../gse/status-class.ts";

/** How long a poll's run and shard items are kept (DynamoDB TTL). */
export const POLL_RECORD_RETENTION_SECONDS = 2 * 86_400;

export const HEARTBEAT_SHARD_JOB = JOB_TYPES.heartbeatShard;

/** A shard of a poll on the automation queue. */
export const heartbeatShardJobSchema = z.object({
  type: z.literal(HEARTBEAT_SHARD_JOB),
  poll_id: z.string().min(1).max(64),
  /** The poll's time (ms): what every shard of it counts as "seen at". */
  at: z.number().int().nonnegative(),
  shard: z.string().min(1).max(64),
  partitions: z
    .array(
      z
        .int()
        .min(0)
        .max(FLEET_PARTITIONS - 1),
    )
    .min(1)
    .max(FLEET_PARTITIONS),
});
export type HeartbeatShardJob = z.infer<typeof heartbeatShardJobSchema>;

/** One alert kind's share of a poll: how many agents, a sample of them, and how many per GSE state (`5 upgrading`). */
const tallySchema = z.object({ count: z.int().nonnegative(), sample: z.array(sampleEntrySchema), states: z.record(z.string(), z.int()).default({}) });
export type Tally = z.infer<typeof tallySchema>;

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
  /** Agents whose state this shard wrote (a change of class, status or what GSE answered). */
  agents_written: z.int().optional(),
  /** Partitions read from the table; the others came from the instance's cache (fleet-cache.ts). */
  partitions_read: z.int().optional(),
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

export interface ShardRun {
  readonly result: ShardResult;
  readonly calls: FleetCalls;
  /** Whether this shard was the last of its poll and finished it. */
  readonly finished: boolean;
}

export const emptyTallies = (): Record<TransitionAlertKind, Tally> =>
  Object.fromEntries(TRANSITION_ALERT_KINDS.map((k) => [k, { count: 0, sample: [], states: {} }])) as unknown as Record<TransitionAlertKind, Tally>;
export const emptyTransitionCounts = (): Record<TransitionKind, number> =>
  Object.fromEntries(TRANSITION_KINDS.map((k) => [k, 0])) as Record<TransitionKind, number>;
export const emptyStatusCounts = (): Record<FleetStatus, number> => Object.fromEntries(FLEET_STATUSES.map((s) => [s, 0])) as Record<FleetStatus, number>;
export const emptyClassCounts = (): Record<StatusClass, number> => Object.fromEntries(STATUS_CLASSES.map((c) => [c, 0])) as Record<StatusClass, number>;
