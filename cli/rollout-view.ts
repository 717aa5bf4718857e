/**
 * PROVISIONAL stand-in for lib/rollouts/schemas.ts (the rollouts branch, not merged yet): the
 * view as that branch draws it. Deleted at the merge; the CLI and the console then import lib's.
 */
import { z } from "zod";
import { outcomeCountsSchema } from "../lib/commands/schemas.ts";
import { ROLLOUT_STATUSES } from "./choices.ts";

export const rolloutStatusSchema = z.enum(ROLLOUT_STATUSES);

export const waveViewSchema = z.object({
  index: z.int(),
  offset: z.int(),
  size: z.int(),
  message_id: z.string(),
  status: z.string(),
  counts: outcomeCountsSchema.nullable(),
  errors: z.int().nullable(),
  version_mismatch: z.array(z.string()),
  started_at: z.string(),
  ended_at: z.string().nullable(),
  bake_until: z.string().nullable(),
  unhealthy_at_start: z.int(),
});

export const rolloutViewSchema = z.object({
  rollout_id: z.string(),
  status: rolloutStatusSchema,
  reason: z.string().nullable(),
  targets: z.int(),
  target_query: z.record(z.string(), z.unknown()).nullable(),
  template: z.object({ name: z.string(), version: z.int() }).nullable(),
  strategy: z.unknown(),
  bake_seconds: z.int(),
  max_errors: z.int().nullable(),
  errors: z.int(),
  current_wave: z.int(),
  waves: z.array(waveViewSchema),
  gate: z.object({
    state: z.enum(["ok", "tripped"]),
    gate: z.enum(["health", "errors"]).nullable(),
    touched: z.int(),
    unhealthy: z.int(),
    threshold: z.int().nullable(),
  }),
  undo: z.object({ message_id: z.string(), status: z.string(), counts: outcomeCountsSchema.nullable() }).nullable(),
  expect_version: z.string().nullable(),
  start_at: z.string().nullable(),
  created_by: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
  finished_at: z.string().nullable(),
});
export type RolloutView = z.infer<typeof rolloutViewSchema>;
export type WaveView = z.infer<typeof waveViewSchema>;

export const rolloutListSchema = z.object({
  rollouts: z.array(
    z.object({
      rollout_id: z.string(),
      status: rolloutStatusSchema,
      targets: z.int(),
      current_wave: z.int(),
      errors: z.int(),
      created_at: z.string(),
      created_by: z.string(),
    }),
  ),
  next_cursor: z.string().optional(),
});
export type RolloutList = z.infer<typeof rolloutListSchema>;
export const startRolloutSchema = z.record(z.string(), z.unknown());
