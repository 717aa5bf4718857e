/**
 * Desired state for GSE's configuration (docs/desired-state.md): the document a person writes, the
 * plan computed from it against what GSE holds now, and the apply that carries a plan out. One
 * schema each; the API, the CLI, the OpenAPI document and the JSON Schema file all use these.
 */
import * as z from "zod";
import { fieldChangeSchema } from "../config-versions/mask.ts";
import { storedErrorSchema } from "../config-versions/items.ts";
import { channelIdSchema, labelSchema } from "../gse/schemas/common.ts";
import { kafkaRouteSchema, pulsarRouteSchema, redisRouteSchema, streamFilterSchema } from "../gse/schemas/route.ts";
import { streamToSchema } from "../gse/schemas/stream-to.ts";

// ---- the document ------------------------------------------------------------------------------

const nameSchema = z.string().min(1).max(128);

/**
 * One stream_to, keyed by its `name` (GSE's stream_to.name): the stream_to's own fields as GSE
 * takes them (report_mode and kafka/redis/pulsar/data_log_path), plus its metadata label.
 * `absent: true` says it must not exist.
 */
export const desiredStreamToSchema = z
  .looseObject({
    name: nameSchema,
    label: labelSchema.optional(),
    absent: z.boolean().optional(),
  })
  .superRefine((value, ctx) => {
    if (value.absent === true) return;
    const { label: _label, absent: _absent, ...streamTo } = value;
    const parsed = streamToSchema.safeParse(streamTo);
    if (!parsed.success) for (const issue of parsed.error.issues) ctx.addIssue({ ...issue, code: "custom", message: issue.message, path: issue.path });
  });
export type DesiredStreamTo = z.infer<typeof desiredStreamToSchema>;

/** A route's target: a stream_to by *name* (one of the document's, or one GSE already holds), and the topic/channel on it. */
export const desiredRouteTargetSchema = z.strictObject({
  name: nameSchema,
  kafka: kafkaRouteSchema.optional(),
  redis: redisRouteSchema.optional(),
  pulsar: pulsarRouteSchema.optional(),
});

export const desiredRouteEntrySchema = z.strictObject({
  name: nameSchema,
  stream_to: desiredRouteTargetSchema,
  filter_name_and: z.array(z.string()).optional(),
  filter_name_or: z.array(z.string()).optional(),
});
export type DesiredRouteEntry = z.infer<typeof desiredRouteEntrySchema>;

/**
 * One route channel (a data id), whole: its routes and stream filters are all it should hold
 * (entries not listed are removed). `absent: true` says the channel must not exist.
 */
export const desiredChannelSchema = z.strictObject({
  channel_id: channelIdSchema,
  label: labelSchema.optional(),
  absent: z.boolean().optional(),
  route: z.array(desiredRouteEntrySchema).max(1000).default([]),
  stream_filters: z.array(streamFilterSchema).max(1000).default([]),
});
export type DesiredChannel = z.infer<typeof desiredChannelSchema>;

function unique<T>(items: readonly T[], key: (item: T) => string | number, path: string, ctx: z.RefinementCtx): void {
  const seen = new Set<string | number>();
  items.forEach((item, i) => {
    const k = key(item);
    if (seen.has(k)) ctx.addIssue({ code: "custom", message: `${String(k)} is given twice`, path: [path, i] });
    seen.add(k);
  });
}

/**
 * What a platform's GSE configuration should be. It may cover a subset: stream_tos and channels it
 * does not mention are left alone, unless `prune: true` (then the platform's stream_tos it does not
 * name are deleted, and so are channels the platform's last applied document named and this one
 * does not).
 */
export const desiredDocumentSchema = z
  .strictObject({
    plat_name: z.string().min(1).max(64),
    prune: z.boolean().default(false),
    stream_tos: z.array(desiredStreamToSchema).max(1000).default([]),
    routes: z.array(desiredChannelSchema).max(1000).default([]),
  })
  .superRefine((doc, ctx) => {
    unique(doc.stream_tos, (s) => s.name, "stream_tos", ctx);
    unique(doc.routes, (r) => r.channel_id, "routes", ctx);
    doc.routes.forEach((channel, c) => {
      unique(channel.route, (r) => r.name, `routes.${c}.route`, ctx);
      unique(channel.stream_filters, (f) => f.name, `routes.${c}.stream_filters`, ctx);
    });
  });
export type DesiredDocument = z.infer<typeof desiredDocumentSchema>;
export type DesiredDocumentInput = z.input<typeof desiredDocumentSchema>;

// ---- plans -------------------------------------------------------------------------------------

export const PLAN_ACTIONS = ["create", "update", "delete", "unchanged"] as const;
export const planActionSchema = z.enum(PLAN_ACTIONS);
export type PlanAction = z.infer<typeof planActionSchema>;

export const PLAN_SOURCES = ["request", "drift"] as const;

/**
 * One object of a plan, in the order an apply carries them out: stream_tos created or updated,
 * then channels created, updated or deleted, then stream_tos deleted. `before` is what GSE held
 * when planned; `after` what it should hold (a route's stream_to by name and, where it exists,
 * id). Secrets are masked in both and in `changes`.
 */
export const planChangeSchema = z.object({
  order: z.int(),
  kind: z.enum(["streamto", "route"]),
  /** The stream_to's name, or the channel id (not `key`: the log and alert masking takes `key` for a secret). */
  name: z.string(),
  /** stream_to_id or channel_id; null for a stream_to the apply will create. */
  id: z.int().nullable(),
  action: planActionSchema,
  changes: z.array(fieldChangeSchema),
  before: z.unknown().nullable(),
  after: z.unknown().nullable(),
});
export type PlanChange = z.infer<typeof planChangeSchema>;

export const planSummarySchema = z.object({ create: z.int(), update: z.int(), delete: z.int(), unchanged: z.int() });

export const planViewSchema = z.object({
  plan_id: z.string(),
  plat_name: z.string(),
  source: z.enum(PLAN_SOURCES),
  prune: z.boolean(),
  /** sha256 of what GSE held (the objects read) when planned: an apply refuses when GSE moved since. */
  state_hash: z.string(),
  has_changes: z.boolean(),
  summary: planSummarySchema,
  changes: z.array(planChangeSchema),
  created_by: z.string(),
  created_at: z.string(),
  /** The apply that carried it out, once one did. */
  apply_id: z.string().nullable(),
});
export type PlanView = z.infer<typeof planViewSchema>;

/** POST /v1/plans: the document (JSON), or its YAML text as `{ "yaml": "…" }`. */
export const createPlanRequestSchema = z.union([z.strictObject({ yaml: z.string().min(1).max(1_000_000) }), z.looseObject({ plat_name: z.string() })]);

export const planIdSchema = z.string().regex(/^plan-[a-z0-9-]{6,64}$/, "is a plan id (plan-…)");
export const planPathSchema = z.object({ plan_id: planIdSchema });

// ---- applies -----------------------------------------------------------------------------------

/** During the bake, the share of alive agents (in points, 0 to 100) must not drop by more than this; and every applied object must still read back as applied. */
export const bakeGateSchema = z.strictObject({
  max_alive_drop_points: z.number().min(0).max(100),
  /** Whose alive ratio: these agents, or the watched agents with these labels; default the whole watched fleet. */
  agent_id_list: z.array(z.string().min(1)).min(1).max(100_000).optional(),
  labels: z.record(z.string(), z.string()).optional(),
});
export type BakeGate = z.infer<typeof bakeGateSchema>;

export const applyRequestSchema = z.strictObject({
  bake_seconds: z
    .int()
    .min(0)
    .max(7 * 86_400)
    .optional(),
  gate: bakeGateSchema.optional(),
});
export type ApplyRequest = z.infer<typeof applyRequestSchema>;

export const APPLY_STATUSES = ["APPLYING", "BAKING", "APPLIED", "ROLLING_BACK", "ROLLED_BACK", "ROLLBACK_FAILED"] as const;
export const applyStatusSchema = z.enum(APPLY_STATUSES);
export type ApplyStatus = z.infer<typeof applyStatusSchema>;

export const STEP_STATUSES = ["PENDING", "APPLIED", "UNCHANGED", "FAILED", "UNDONE", "UNDO_FAILED"] as const;

export const applyStepSchema = z.object({
  order: z.int(),
  kind: z.enum(["streamto", "route"]),
  name: z.string(),
  /** Known once the object exists (a created stream_to gets its id from GSE). */
  id: z.int().nullable(),
  action: planActionSchema,
  status: z.enum(STEP_STATUSES),
  /** The config version the step wrote (GET /v1/configs/{kind}/{id}/versions), and its undo's. */
  version: z.int().nullable(),
  undo_version: z.int().nullable(),
  error: storedErrorSchema.nullable(),
});
export type ApplyStep = z.infer<typeof applyStepSchema>;

export const GATE_NAMES = ["alive_ratio", "drift"] as const;

export const applyViewSchema = z.object({
  apply_id: z.string(),
  plan_id: z.string(),
  plat_name: z.string(),
  status: applyStatusSchema,
  author: z.string(),
  summary: planSummarySchema,
  steps: z.array(applyStepSchema),
  /** What failed (a step's GSE error, a gate that tripped), when it did. */
  error: storedErrorSchema.nullable(),
  bake: z
    .object({
      seconds: z.int(),
      until: z.string(),
      gate: bakeGateSchema.nullable(),
      /** Alive share of the gate's agents when the bake started, and at its last check (points). */
      alive_before: z.number().nullable(),
      alive_now: z.number().nullable(),
      tripped: z.object({ gate: z.enum(GATE_NAMES), reason: z.string() }).nullable(),
    })
    .nullable(),
  /** GET /v1/applies/{apply_id}: what the apply set out to change, field by field (its plan's diff, secrets masked). */
  diff: z.array(planChangeSchema).optional(),
  started_at: z.string(),
  finished_at: z.string().nullable(),
});
export type ApplyView = z.infer<typeof applyViewSchema>;

export const applyListSchema = z.object({
  applies: z.array(
    applyViewSchema.pick({ apply_id: true, plan_id: true, plat_name: true, status: true, author: true, summary: true, started_at: true, finished_at: true }),
  ),
  next_cursor: z.string().optional(),
});

export const applyIdSchema = z.string().regex(/^apply-[a-z0-9-]{6,64}$/, "is an apply id (apply-…)");
export const applyPathSchema = z.object({ apply_id: applyIdSchema });
