/**
 * What GET /v1/console/data answers (in the envelope) and the status page draws: built by
 * lib/console/data.ts, documented in OpenAPI (lib/openapi/service-paths.ts). Apart from the assembly so that the
 * OpenAPI document does not bundle the DynamoDB client.
 */
import * as z from "zod";
import { statusClassSchema } from "../gse/status-class.ts";
import { commandStatusSchema, outcomeCountsSchema } from "../commands/schemas.ts";
import { versionStatusSchema } from "../config-versions/items.ts";
import { FLEET_STATUSES } from "../fleet/items.ts";
import { ALERT_SEVERITIES } from "../fleet/log-items.ts";
import { rolloutStatusSchema, rolloutViewSchema } from "../rollouts/schemas.ts";
import { applyListSchema } from "../desired/schemas.ts";

/** Counts by status at one moment of the chart. */
export const statusPointSchema = z.object({
  at: z.string(),
  agents: z.int(),
  pending: z.int(),
  alive: z.int(),
  lost: z.int(),
  unknown: z.int(),
  /** Alive, but missed by the last poll(s): counted in `alive` too. */
  suspect: z.int(),
});
export type StatusPoint = z.infer<typeof statusPointSchema>;

export const consoleFleetSchema = z.object({
  as_of: z.string(),
  agents: z.int(),
  by_status: z.record(z.enum(FLEET_STATUSES), z.int()),
  suspect: z.int(),
  by_version: z.array(z.object({ version: z.string(), count: z.int(), outdated: z.boolean() })),
  /** Versions beyond the most common ones, with their agents: the rest of the distribution. */
  other_versions: z.object({ versions: z.int(), agents: z.int() }),
  outdated: z.int(),
  min_version: z.string().nullable(),
  /** GSE calls the last poll made, and those that failed: for the failed ones' agents, the counts are older. */
  gse_calls: z.int(),
  gse_failed_chunks: z.int(),
  /**
   * When GSE last answered for every watched agent: the oldest state any count rests on. `as_of`
   * when the last poll was answered in full; earlier when calls of it failed (the agents they
   * asked about kept the state of their last answer); null when GSE has not answered for some
   * agents yet.
   */
  gse_answered_at: z.string().nullable(),
});

export const lostAgentSchema = z.object({
  agent_id: z.string(),
  /** When it was last seen alive (null: never). */
  last_seen: z.string().nullable(),
  /** When it became lost (its last change). */
  since: z.string(),
  version: z.string().optional(),
  status_code: z.int().optional(),
  /** The class of that status_code (degraded, gone, …: lib/gse/status-class.ts). */
  status_class: statusClassSchema.optional(),
});
export type LostAgent = z.infer<typeof lostAgentSchema>;

export const consoleAlertSchema = z.object({
  at: z.string(),
  kind: z.string(),
  severity: z.enum(ALERT_SEVERITIES),
  subject: z.string(),
  message: z.string(),
  object: z.string().optional(),
});
export type ConsoleAlert = z.infer<typeof consoleAlertSchema>;

export const consoleCommandSchema = z.object({
  message_id: z.string(),
  status: commandStatusSchema,
  targets: z.int(),
  created_at: z.string(),
  created_by: z.string(),
  batches: z.object({ total: z.int(), sent: z.int() }),
  /** From its batches (cheap at any size): sent, failed at delivery, not sent yet. */
  counts: outcomeCountsSchema,
  /** Share of the targets no longer waiting to be sent (0–1). */
  progress: z.number().min(0).max(1),
});
export type ConsoleCommand = z.infer<typeof consoleCommandSchema>;

/** What an operator may do to a rollout in its status (the routes still check the caller's `operator` scope). */
export const CONSOLE_ROLLOUT_ACTIONS = ["pause", "resume", "abort"] as const;
export type ConsoleRolloutAction = (typeof CONSOLE_ROLLOUT_ACTIONS)[number];

/** A running or recent rollout: where its current wave is, its gate and its error budget. */
export const consoleRolloutSchema = z.object({
  rollout_id: z.string(),
  status: rolloutStatusSchema,
  reason: z.string().nullable(),
  targets: z.int(),
  errors: z.int(),
  max_errors: z.int().nullable(),
  current_wave: z.int(),
  /** Waves started so far. */
  waves: z.int(),
  /** The current (or last) wave; null before the first starts. */
  wave: z
    .object({
      index: z.int(),
      size: z.int(),
      status: z.string(),
      sent: z.int(),
      settled: z.int(),
      failed: z.int(),
      bake_until: z.string().nullable(),
    })
    .nullable(),
  gate: rolloutViewSchema.shape.gate,
  undo: z.object({ message_id: z.string(), status: z.string() }).nullable(),
  created_at: z.string(),
  created_by: z.string(),
  updated_at: z.string(),
  /** What its status allows; the page offers them to an operator only. */
  actions: z.array(z.enum(CONSOLE_ROLLOUT_ACTIONS)),
});
export type ConsoleRollout = z.infer<typeof consoleRolloutSchema>;

export const consoleConfigVersionSchema = z.object({
  /** `route#<channel_id>` or `streamto#<id>`. */
  object: z.string(),
  version: z.int(),
  status: versionStatusSchema,
  operation: z.string(),
  author: z.string(),
  /** Its last change of status (or its creation). */
  at: z.string(),
  /** FAILED, ROLLED_BACK or ROLLBACK_FAILED: what on-call looks at first. */
  highlight: z.boolean(),
  /** Why it failed (masked like the logs). */
  error: z.string().optional(),
});
export type ConsoleConfigVersion = z.infer<typeof consoleConfigVersionSchema>;

export const DEPENDENCY_STATES = ["ok", "failing", "unknown"] as const;

/** One dependency on the strip at the top of the page. */
export const consoleDependencySchema = z.object({
  state: z.enum(DEPENDENCY_STATES),
  /** One line: what was checked and what it answered (codes and error names, masked like the logs). */
  detail: z.string(),
  /** When it was observed: GSE by the last heartbeat poll, DynamoDB and SNS by this answer. Null: never. */
  checked_at: z.string().nullable(),
  /** Since when it is failing, when known (GSE: the first poll of the outage). */
  since: z.string().nullable(),
});
export type ConsoleDependency = z.infer<typeof consoleDependencySchema>;

/** GSE from the last heartbeat poll, DynamoDB from this answer's own reads, SNS from the alerts topic. */
export const consoleDependenciesSchema = z.object({
  gse: consoleDependencySchema,
  dynamodb: consoleDependencySchema,
  sns: consoleDependencySchema,
});
export type ConsoleDependencies = z.infer<typeof consoleDependenciesSchema>;

/** `data` of /v1/console/data's 503 (DEPENDENCY_UNAVAILABLE): DynamoDB could not be read, so only the strip. */
export const consoleUnavailableDataSchema = z.object({ dependencies: consoleDependenciesSchema });

/** A desired-state apply as the page lists it: GET /v1/applies' item (docs/desired-state.md). */
export const consoleApplySchema = applyListSchema.shape.applies.element;
export type ConsoleApply = z.infer<typeof consoleApplySchema>;

export const consoleDataSchema = z.object({
  generated_at: z.string(),
  dependencies: consoleDependenciesSchema,
  /** How often the page asks again. */
  refresh_seconds: z.int(),
  /** As of the last completed heartbeat poll; null before the first. */
  fleet: consoleFleetSchema.nullable(),
  history: z.object({ hours: z.int(), every_minutes: z.int(), points: z.array(statusPointSchema) }),
  lost: z.object({
    /** Lost agents in the fleet view (null before the first poll). */
    total: z.int().nullable(),
    /** Most recently lost first. */
    agents: z.array(lostAgentSchema),
    /** False when the registry was too large to read whole for this answer: more may be lost. */
    complete: z.boolean(),
  }),
  alerts: z.array(consoleAlertSchema),
  commands: z.array(consoleCommandSchema),
  /** Rollouts not ended, then those ended in the last CONSOLE_LIMITS.rolloutHours, newest first. */
  rollouts: z.array(consoleRolloutSchema),
  /** The newest desired-state applies (GET /v1/applies' items): status, platform, author, summary, when. */
  applies: z.array(consoleApplySchema),
  configs: z.array(consoleConfigVersionSchema),
  /**
   * Who is signed in. `read_only` (no `operator` scope) says the routes that repair (roll back,
   * cancel, fleet edits) would refuse this caller; the page offers its one set of actions, a
   * rollout's pause, resume and abort, only when it is false.
   */
  viewer: z.object({ app_code: z.string(), scopes: z.array(z.string()), read_only: z.boolean() }).optional(),
});
export type ConsoleData = z.infer<typeof consoleDataSchema>;
