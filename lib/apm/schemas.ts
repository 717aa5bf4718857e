/**
 * APM applications: the request and answer shapes of /v1/apm, one schema each; the
 * store, the API, the CLI and the OpenAPI document all use these.
 */
import * as z from "zod";
import { rolloutViewSchema } from "../rollouts/schemas.ts";
import { rolloutSettingsSchema } from "../rollouts/spec.ts";
import { decimalInt } from "../http/params.ts";
import { DATASOURCES } from "./datasource-names.ts";
import { rolloutLimitSchema } from "../commands/schemas.ts";
import { commandViewSchema } from "../commands/schemas.ts";
import { agentIdSchema, messageIdSchema } from "../gse/schemas.ts";
import { storedErrorSchema } from "../config-versions/items.ts";

export { DATASOURCES } from "./datasource-names.ts";
export const datasourceNameSchema = z.enum(DATASOURCES);
export type DatasourceName = z.infer<typeof datasourceNameSchema>;

/** bk-monitor's app names: letters, digits, `_` and `-`, at most 50. */
export const appNameSchema = z.string().regex(/^[A-Za-z0-9_-]{1,50}$/, "must be 1 to 50 letters, digits, '_' or '-'");
export const bizIdSchema = decimalInt({ min: -2_147_483_648, max: 2_147_483_647 });
export const retentionDaysSchema = z.int().min(1).max(3_650);

/** What a datasource is: its data id (a GSE route channel) and where the channel's data goes. */
export const datasourceDefinitionSchema = z.strictObject({
  data_id: z.int().positive().max(2_147_483_647),
  stream_to_id: z.int().positive().max(2_147_483_647),
  /** Kafka topic of the route; defaults to `apm_<datasource>_<data_id>`. */
  topic_name: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,249}$/, "must be a Kafka topic name (1 to 249 letters, digits, '.', '_' or '-')")
    .optional(),
});
export type DatasourceDefinition = z.infer<typeof datasourceDefinitionSchema>;

/** ROLLING_OUT: the route is applied and the probes are told by a rollout still running (waves, bake, health gate). */
export const APPLY_STATES = ["APPLIED", "APPLYING", "ROLLING_OUT", "FAILED"] as const;
/** `rollout`: the rollout that told the probes aborted (a gate tripped, or an operator aborted it). */
export const applyStepSchema = z.enum(["config", "command", "rollout"]);
export type ApplyStep = z.infer<typeof applyStepSchema>;

/** The last start or stop of a datasource and how it went. */
export const applyStatusSchema = z.object({
  state: z.enum(APPLY_STATES),
  action: z.enum(["start", "stop"]),
  /** The step that failed, when state is FAILED. */
  step: applyStepSchema.optional(),
  error: storedErrorSchema.optional(),
  /** The config version the action wrote (route#<data_id>). */
  config_version: z.int().optional(),
  /** The command that told the probes. */
  message_id: z.string().optional(),
  /** The rollout that told the probes, when the action named a strategy, bake or gate. */
  rollout_id: z.string().optional(),
  /** Agents the command went to (0: no probe seen within the retention window). */
  targets: z.int().optional(),
  at: z.number(),
});
export type ApplyStatus = z.infer<typeof applyStatusSchema>;

export const datasourceSchema = datasourceDefinitionSchema.extend({
  topic_name: z.string(),
  enabled: z.boolean(),
  apply: applyStatusSchema.optional(),
});
export type Datasource = z.infer<typeof datasourceSchema>;

export const appViewSchema = z.object({
  bk_biz_id: z.int(),
  app_name: z.string(),
  retention_days: z.int(),
  datasources: z.partialRecord(datasourceNameSchema, datasourceSchema),
  created_by: z.string(),
  created_at: z.number(),
  updated_at: z.number(),
  /** Increases with every change: what an update may be conditioned on (`if_revision`). */
  revision: z.int(),
});
export type AppView = z.infer<typeof appViewSchema>;

export const createAppSchema = z.strictObject({
  bk_biz_id: z.int().min(-2_147_483_648).max(2_147_483_647),
  app_name: appNameSchema,
  retention_days: retentionDaysSchema.optional(),
  datasources: z.partialRecord(datasourceNameSchema, datasourceDefinitionSchema).optional(),
});
export type CreateAppRequest = z.infer<typeof createAppSchema>;

/** A datasource set to null is removed (it must be stopped first). */
export const updateAppSchema = z.strictObject({
  retention_days: retentionDaysSchema.optional(),
  datasources: z.partialRecord(datasourceNameSchema, datasourceDefinitionSchema.nullable()).optional(),
  if_revision: z.int().optional(),
});
export type UpdateAppRequest = z.infer<typeof updateAppSchema>;

export const appPathSchema = z.object({ bk_biz_id: bizIdSchema, app_name: appNameSchema });
export const datasourcePathSchema = appPathSchema.extend({ datasource: datasourceNameSchema });
export const appListQuerySchema = z.object({ bk_biz_id: bizIdSchema.optional() });

export const appListSchema = z.object({ apps: z.array(appViewSchema) });

/** What start/stop answers: the app after the action, and whether anything had to change. */
export const datasourceActionSchema = z.object({
  app: appViewSchema,
  datasource: datasourceNameSchema,
  action: z.enum(["start", "stop"]),
  /** False when the datasource already was in the asked state (nothing sent). */
  changed: z.boolean(),
  command: commandViewSchema.optional(),
  /** The rollout telling the probes, when the action named a strategy, bake or gate. */
  rollout: rolloutViewSchema.optional(),
});
export type DatasourceAction = z.infer<typeof datasourceActionSchema>;

/**
 * The optional body of start/stop. Limits alone pace the one command; a strategy, bake or gate
 * makes the probes' part a rollout (docs/rollouts.md §3) whose undo is the opposite action's
 * message, and whose abort rolls the route back.
 */
export const datasourceRequestSchema = rolloutSettingsSchema.pick({
  max_concurrency: true,
  max_errors: true,
  reply_timeout_seconds: true,
  reply_rule: true,
  strategy: true,
  bake_seconds: true,
  gate: true,
});
export type DatasourceRequest = z.infer<typeof datasourceRequestSchema>;

/** The data of a 502 DATASOURCE_APPLY_FAILED answer: the datasource kept its previous state. */
export const datasourceApplyFailureSchema = z.object({
  app: appViewSchema,
  datasource: datasourceNameSchema,
  action: z.enum(["start", "stop"]),
  step: applyStepSchema,
  error: storedErrorSchema,
  rollback_error: storedErrorSchema.optional(),
});
export type DatasourceApplyFailure = z.infer<typeof datasourceApplyFailureSchema>;

// ---- probes ---------------------------------------------------------------------------------

const timeSchema = z.union([z.int().nonnegative(), z.iso.datetime({ offset: true }).transform((text) => Date.parse(text))]);

/** One probe instance as an agent reports it; `last_seen` in epoch ms or ISO-8601, default now. */
export const probeReportSchema = z.strictObject({
  agent_id: agentIdSchema,
  service: z.string().min(1).max(256),
  instance: z.string().min(1).max(256),
  probe_version: z.string().min(1).max(64),
  last_seen: timeSchema.optional(),
});
export type ProbeReport = z.infer<typeof probeReportSchema>;

export const MAX_PROBES_PER_REPORT = 1000;
export const probeIngestSchema = z.strictObject({ instances: z.array(probeReportSchema).min(1).max(MAX_PROBES_PER_REPORT) });

/** What a probe answers a discovery command with (its reply content, JSON). */
export const discoveryReplySchema = z.object({
  instances: z.array(probeReportSchema.omit({ agent_id: true }).extend({ agent_id: agentIdSchema.optional() })).max(MAX_PROBES_PER_REPORT),
});

export const probeInstanceSchema = z.object({
  agent_id: z.string(),
  service: z.string(),
  instance: z.string(),
  probe_version: z.string(),
  last_seen: z.number(),
  last_seen_iso: z.string(),
});
export type ProbeInstance = z.infer<typeof probeInstanceSchema>;

/** The retention window, in UTC: `start_ms <= last_seen <= end_ms`. */
export const windowSchema = z.object({
  start_ms: z.number(),
  end_ms: z.number(),
  start: z.string(),
  end: z.string(),
  retention_days: z.int(),
});
export type RetentionWindow = z.infer<typeof windowSchema>;

export const probeQuerySchema = z.object({
  service: z.string().min(1).max(256).optional(),
  limit: decimalInt({ min: 1, max: 1000, fallback: 200 }),
  cursor: z.string().min(1).max(2048).optional(),
});

export const probeListSchema = z.object({ window: windowSchema, instances: z.array(probeInstanceSchema), next_cursor: z.string().optional() });
export type ProbeList = z.infer<typeof probeListSchema>;

export const probeVersionsSchema = z.object({
  window: windowSchema,
  total: z.int(),
  versions: z.array(z.object({ probe_version: z.string(), instances: z.int(), agents: z.int() })),
});
export type ProbeVersions = z.infer<typeof probeVersionsSchema>;

export const ingestAnswerSchema = z.object({ accepted: z.int() });

export const discoverRequestSchema = z.strictObject({
  /** Agents to ask; default: the agents of the app's probes within the retention window. */
  agent_id_list: z.array(agentIdSchema).min(1).max(100_000).optional(),
  message_id: messageIdSchema.optional(),
  reply_timeout_seconds: z.int().min(1).max(86_400).optional(),
});

export const upgradeRequestSchema = z.strictObject({
  target_version: z.string().min(1).max(64),
  message_id: messageIdSchema.optional(),
  max_concurrency: rolloutLimitSchema.refine((v) => v !== 0, "must be at least 1").optional(),
  max_errors: rolloutLimitSchema.optional(),
  reply_timeout_seconds: z.int().min(1).max(86_400).optional(),
  reply_rule: rolloutSettingsSchema.shape.reply_rule,
  /** Any of these makes the upgrade a rollout (docs/rollouts.md §3): waves, bake, health gate, undo. */
  strategy: rolloutSettingsSchema.shape.strategy,
  bake_seconds: rolloutSettingsSchema.shape.bake_seconds,
  gate: rolloutSettingsSchema.shape.gate,
  undo: rolloutSettingsSchema.shape.undo,
});
export type UpgradeRequest = z.infer<typeof upgradeRequestSchema>;

export const probeCommandAnswerSchema = z.object({
  /** Agents the command went to; 0 and no command when there was none to ask. */
  targets: z.int(),
  command: commandViewSchema.optional(),
  /** An upgrade run as a rollout (it named a strategy, bake, gate or undo): the rollout. */
  rollout: rolloutViewSchema.optional(),
});
export type ProbeCommandAnswer = z.infer<typeof probeCommandAnswerSchema>;
