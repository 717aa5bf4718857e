/**
 * The rollout view the CLI and the console read (docs/rollouts.md §3). PROVISIONAL: written
 * against the design contract until lib/rollouts/schemas.ts lands; then this file only re-exports.
 */
import { z } from "zod";
import { outcomeCountsSchema } from "../lib/commands/schemas.ts";
import { ROLLOUT_STATUSES } from "./choices.ts";

export const rolloutWaveSchema = z.looseObject({
  index: z.int(),
  size: z.int(),
  message_id: z.string(),
  status: z.string(),
  counts: outcomeCountsSchema,
  started_at: z.string().nullable().optional(),
  ended_at: z.string().nullable().optional(),
  bake_until: z.string().nullable().optional(),
});
export type RolloutWave = z.infer<typeof rolloutWaveSchema>;

export const rolloutViewSchema = z.looseObject({
  rollout_id: z.string(),
  status: z.enum(ROLLOUT_STATUSES),
  reason: z.string().nullable(),
  targets: z.int(),
  bake_seconds: z.int(),
  max_errors: z.int(),
  errors: z.int(),
  current_wave: z.int(),
  waves: z.array(rolloutWaveSchema),
  gate: z.object({ state: z.enum(["ok", "tripped"]), gate: z.enum(["health", "errors"]).nullable(), touched: z.int(), unhealthy: z.int(), threshold: z.int() }),
  undo: z.looseObject({ message_id: z.string(), status: z.string() }).nullable(),
  created_by: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
  finished_at: z.string().nullable().optional(),
});
export type RolloutView = z.infer<typeof rolloutViewSchema>;

export const rolloutListSchema = z.object({ rollouts: z.array(rolloutViewSchema), next_cursor: z.string().nullable() });
export const startRolloutSchema = z.record(z.string(), z.unknown());
