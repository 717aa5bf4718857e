/**
 * The settings a rollout runs with (docs/rollouts.md §3), apart from its targets and content: a
 * template carries the same fields (lib/templates), and a run's own fields override the template's.
 */
import * as z from "zod";
import { replyRuleSchema } from "../commands/reply-rule.ts";
import { MAX_COMMAND_CONTENT_BYTES, rolloutLimitSchema } from "../commands/schemas.ts";
import { semverRangeSchema } from "../targets/schemas.ts";

export const strategySchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("all") }),
  z.strictObject({ kind: z.literal("linear"), wave_size: rolloutLimitSchema.refine((v) => v !== 0 && v !== "0%", "must be at least 1") }),
  z.strictObject({
    kind: z.literal("exponential"),
    start: z.int().min(1),
    factor: z.number().gt(1).max(100),
    /** Waves grow while the previous one's success rate holds; below it the size is held. */
    min_success_rate: z.number().min(0).max(1).optional(),
  }),
]);
export type Strategy = z.infer<typeof strategySchema>;

export const GATE_CLASSES = ["lost", "stuck", "degraded", "gone", "silent"] as const;

export const gateSchema = z.strictObject({
  /** More unhealthy touched agents than this (count or share of the touched) aborts the rollout. */
  max_unhealthy: rolloutLimitSchema,
  classes: z.array(z.enum(GATE_CLASSES)).min(1).optional(),
  /** An agent not seen alive for this long counts `silent`. */
  silent_seconds: z.int().min(1).max(86_400).optional(),
});
export type Gate = z.infer<typeof gateSchema>;

const contentSchema = z
  .string()
  .min(1)
  .refine((text) => Buffer.byteLength(text, "utf8") <= MAX_COMMAND_CONTENT_BYTES, `must be at most ${MAX_COMMAND_CONTENT_BYTES} bytes`);

export const undoSchema = z.strictObject({
  content: contentSchema,
  reply_timeout_seconds: z.int().min(1).max(86_400).optional(),
  reply_rule: replyRuleSchema.optional(),
});
export type Undo = z.infer<typeof undoSchema>;

/** What a rollout runs with besides targets and content; every field optional. */
export const rolloutSettingsSchema = z.strictObject({
  max_concurrency: rolloutLimitSchema.refine((v) => v !== 0, "must be at least 1").optional(),
  max_errors: rolloutLimitSchema.optional(),
  reply_timeout_seconds: z
    .int()
    .min(1)
    .max(7 * 86_400)
    .optional(),
  reply_rule: replyRuleSchema.optional(),
  strategy: strategySchema.optional(),
  bake_seconds: z
    .int()
    .min(0)
    .max(7 * 86_400)
    .optional(),
  gate: gateSchema.optional(),
  /** Upgrades: the version (semver range) the heartbeat must report afterwards. */
  expect_version: semverRangeSchema.optional(),
  /**
   * APM probe upgrades: the probe version every instance of the app on a reached agent must report
   * afterwards (lib/apm probe reports, read through RolloutDeps.probeVersions), exactly.
   */
  expect_probe_version: z.strictObject({ bk_biz_id: z.int(), app_name: z.string().min(1).max(50), version: z.string().min(1).max(64) }).optional(),
  undo: undoSchema.optional(),
});
export type RolloutSettings = z.infer<typeof rolloutSettingsSchema>;

export { contentSchema as rolloutContentSchema };
