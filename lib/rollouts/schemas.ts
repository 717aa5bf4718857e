/**
 * A rollout as the API takes it (POST /v1/rollouts) and shows it (docs/rollouts.md §3). One
 * schema per shape; types are inferred.
 */
import * as z from "zod";
import { MAX_COMMAND_TARGETS, outcomeCountsSchema } from "../commands/schemas.ts";
import { decimalInt } from "../http/params.ts";
import { agentIdSchema } from "../gse/schemas.ts";
import { targetQuerySchema } from "../targets/schemas.ts";
import { templateRefSchema } from "../templates/schemas.ts";
import { GATE_NAMES, ROLLOUT_STATUSES } from "./items.ts";
import { rolloutContentSchema, rolloutSettingsSchema, type RolloutSettings, strategySchema } from "./spec.ts";

/** A wave's id is `<rollout_id>.w<k>` and the undo's `<rollout_id>.undo`: both must stay a message_id (64). */
export const rolloutIdSchema = z
  .string()
  .min(1)
  .max(58)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, "letters, digits, '.', '_', ':' or '-'");

export const rolloutTargetsSchema = z.union([
  z.strictObject({ agent_id_list: z.array(agentIdSchema).min(1).max(MAX_COMMAND_TARGETS) }),
  z.strictObject({ query: targetQuerySchema }),
]);
export type RolloutTargets = z.infer<typeof rolloutTargetsSchema>;

export const startRolloutSchema = rolloutSettingsSchema.extend({
  rollout_id: rolloutIdSchema.optional(),
  targets: rolloutTargetsSchema,
  /** The content, or a template (lib/templates) that gives it; exactly one of the two (rolloutSpecOf). */
  content: rolloutContentSchema.optional(),
  template: templateRefSchema.optional(),
  start_at: z.iso.datetime({ offset: true }).optional(),
});
export type StartRolloutRequest = z.infer<typeof startRolloutSchema>;

/** A rollout fully expanded (template applied, targets resolved): what startRollout runs. */
export interface RolloutSpec {
  readonly rollout_id: string;
  readonly content: string;
  readonly settings: RolloutSettings;
  readonly agent_ids: readonly string[];
  readonly start_at?: number | undefined;
  readonly target_query?: Record<string, unknown> | undefined;
  readonly template?: { readonly name: string; readonly version: number } | undefined;
  /** Set by an owner that starts rollouts itself (lib/apm); never from a request body. */
  readonly origin?: Record<string, unknown> | undefined;
}

export const rolloutStatusSchema = z.enum(ROLLOUT_STATUSES);

export const waveViewSchema = z.object({
  index: z.int(),
  offset: z.int(),
  size: z.int(),
  message_id: z.string(),
  /** The wave command's status (RUNNING until it ends). */
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
  strategy: strategySchema,
  bake_seconds: z.int(),
  max_errors: z.int().nullable(),
  errors: z.int(),
  current_wave: z.int(),
  waves: z.array(waveViewSchema),
  gate: z.object({
    state: z.enum(["ok", "tripped"]),
    gate: z.enum(GATE_NAMES).nullable(),
    touched: z.int(),
    unhealthy: z.int(),
    threshold: z.int().nullable(),
  }),
  undo: z.object({ message_id: z.string(), status: z.string(), counts: outcomeCountsSchema.nullable() }).nullable(),
  expect_version: z.string().nullable(),
  expect_probe_version: z.object({ bk_biz_id: z.int(), app_name: z.string(), version: z.string() }).nullable(),
  start_at: z.string().nullable(),
  created_by: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
  finished_at: z.string().nullable(),
});
export type RolloutView = z.infer<typeof rolloutViewSchema>;
export type WaveView = z.infer<typeof waveViewSchema>;

export const rolloutListQuerySchema = z.object({
  status: rolloutStatusSchema.optional(),
  limit: decimalInt({ min: 1, max: 200, fallback: 50 }),
  cursor: z.string().max(2048).optional(),
});

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

export const rolloutIdParamSchema = z.object({ rollout_id: rolloutIdSchema });

export const ROLLOUT_ACTIONS = ["pause", "resume", "abort"] as const;
export type RolloutAction = (typeof ROLLOUT_ACTIONS)[number];
export const rolloutActionParamSchema = z.object({ rollout_id: rolloutIdSchema, action: z.enum(ROLLOUT_ACTIONS) });
export const rolloutActionSchema = z.strictObject({ reason: z.string().max(500).optional() });
