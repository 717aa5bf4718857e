/**
 * A rollout's items in the commands table (lib/resources.ts TABLES.commands), beside the commands
 * its waves are. Keys are defined here once:
 *
 *   pk = rollout#<id>    sk = meta               the rollout: spec, status, rev, errors, current wave, gate, undo
 *   pk = rollout#<id>    sk = targets#<hash>#<5 digits> its target snapshot, ≤ 1000 ids per chunk (written before meta)
 *   pk = rollout#<id>    sk = wave#<3 digits>    one wave: slice, command, times, errors, unhealthy at start
 *   pk = rollouts#index  sk = <created ms>#<id>  every rollout, newest last (listing, the sweep)
 *
 * Every change of meta is conditional on its `rev`; a wave item is written in the same
 * transaction as the meta change that starts or ends it.
 */
import * as z from "zod";
import { TABLES } from "../resources.ts";
import { outcomeCountsSchema } from "../commands/schemas.ts";
import { rolloutSettingsSchema } from "./spec.ts";

export const TTL = TABLES.commands.ttlAttribute;

import { ROLLOUT_STATUSES, type RolloutStatus } from "./statuses.ts";

export { ROLLOUT_STATUSES, type RolloutStatus } from "./statuses.ts";
export const FINAL_ROLLOUT_STATUSES: readonly RolloutStatus[] = ["SUCCEEDED", "ABORTED", "CANCELLED"];
export const isFinalRollout = (status: RolloutStatus): boolean => FINAL_ROLLOUT_STATUSES.includes(status);

export const GATE_NAMES = ["health", "errors"] as const;
export type GateName = (typeof GATE_NAMES)[number];

/** Ids per snapshot chunk: 1000 ids of ≤ 64 bytes stay far below an item's 400 KB. */
export const TARGET_CHUNK = 1000;
/** Waves are numbered in three digits. */
export const MAX_WAVES = 999;

export const gateStateSchema = z.object({
  gate: z.enum(GATE_NAMES).nullable(),
  touched: z.int(),
  unhealthy: z.int(),
  threshold: z.int().nullable(),
});
export type GateState = z.infer<typeof gateStateSchema>;

export const undoStateSchema = z.object({ message_id: z.string(), status: z.string() });

export const rolloutItemSchema = z.object({
  pk: z.string(),
  sk: z.literal("meta"),
  rollout_id: z.string(),
  body_hash: z.string(),
  status: z.enum(ROLLOUT_STATUSES),
  /** The status a resume returns to. */
  resume_to: z.enum(ROLLOUT_STATUSES).optional(),
  rev: z.int(),
  content: z.string(),
  settings: rolloutSettingsSchema,
  target_count: z.int(),
  chunk_count: z.int(),
  target_query: z.record(z.string(), z.unknown()).optional(),
  template: z.object({ name: z.string(), version: z.int() }).optional(),
  /**
   * Who started it, when not a person through /v1/rollouts (an APM datasource action): the commands
   * table's stream hands the rollout's end to that owner. `owner_alerts: true`: the owner raises the
   * one alert of an abort, so the rollout raises none of its own.
   */
  origin: z.record(z.string(), z.unknown()).optional(),
  /** The error budget as a count (null: none). */
  max_errors: z.int().nullable(),
  errors: z.int(),
  current_wave: z.int(),
  start_at: z.number().optional(),
  reason: z.string().optional(),
  gate: gateStateSchema.optional(),
  undo: undoStateSchema.optional(),
  /** When a tick is next expected; the sweep revives a rollout whose tick is long overdue. */
  next_tick_at: z.number().optional(),
  created_by: z.string(),
  created_at: z.number(),
  updated_at: z.number(),
  finished_at: z.number().optional(),
  [TTL]: z.int(),
});
export type RolloutItem = z.infer<typeof rolloutItemSchema>;

export const WAVE_STATUSES = ["RUNNING", "ENDED"] as const;

export const waveItemSchema = z.object({
  pk: z.string(),
  sk: z.string(),
  index: z.int(),
  offset: z.int(),
  size: z.int(),
  message_id: z.string(),
  status: z.enum(WAVE_STATUSES),
  /** The wave command's final status, once ended. */
  command_status: z.string().optional(),
  counts: outcomeCountsSchema.optional(),
  errors: z.int().optional(),
  version_mismatch: z.array(z.string()).optional(),
  started_at: z.number(),
  ended_at: z.number().optional(),
  bake_until: z.number().optional(),
  /** Agents of this wave unhealthy when it started: the health gate leaves them out. */
  unhealthy_at_start: z.array(z.string()),
  [TTL]: z.int(),
});
export type WaveItem = z.infer<typeof waveItemSchema>;

export const targetsChunkSchema = z.object({ pk: z.string(), sk: z.string(), agent_ids: z.array(z.string()), [TTL]: z.int() });

export const rolloutIndexSchema = z.object({ pk: z.string(), sk: z.string(), rollout_id: z.string(), created_at: z.number(), [TTL]: z.int() });

export const rolloutPk = (id: string): string => `rollout#${id}`;
export const META_SK = "meta";
export const TARGETS_PREFIX = "targets#";
export const targetsSk = (hash: string, n: number): string => `${TARGETS_PREFIX}${hash}#${String(n).padStart(5, "0")}`;
export const WAVE_PREFIX = "wave#";
export const waveSk = (k: number): string => `${WAVE_PREFIX}${String(k).padStart(3, "0")}`;
export const ROLLOUT_INDEX_PK = "rollouts#index";
export const rolloutIndexSk = (createdAt: number, id: string): string => `${String(createdAt).padStart(13, "0")}#${id}`;
/** The tracked commands a rollout sends: wave k, and the undo. */
export const waveMessageId = (id: string, k: number): string => `${id}.w${k}`;
export const undoMessageId = (id: string): string => `${id}.undo`;
