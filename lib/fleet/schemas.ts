/**
 * The /v1/fleet routes' request and answer shapes: validated at the edge (functions/fleet/*),
 * documented in OpenAPI (lib/openapi/service-paths.ts), implemented in lib/fleet/service.ts.
 * POST /v1/fleet/resolve's are in lib/fleet/resolve-schemas.ts.
 */
import * as z from "zod";
import { decimalInt } from "../http/params.ts";
// From their own files, not lib/gse/schemas.ts: that index would bring every GSE schema into the fleet functions.
import { agentIdSchema } from "../gse/schemas/agents.ts";
import { MAX_AGENTS_PER_REQUEST } from "../gse/schemas/common.ts";
import { statusClassSchema } from "../gse/status-class.ts";
import { labelKeySchema, labelsSchema, MAX_LABELS_PER_AGENT } from "../targets/labels.ts";
import { fleetSummarySchema, isWatchableAgentId, transitionSchema } from "./items.ts";

// Registered ids are asked of GSE by every poll: only GSE's formats (which are also storable).
export const agentIdListBodySchema = z.object({
  agent_id_list: z
    .array(agentIdSchema.refine(isWatchableAgentId, { message: "agent id is too long to be stored" }))
    .min(1)
    .max(MAX_AGENTS_PER_REQUEST),
});
export type AgentIdListBody = z.infer<typeof agentIdListBodySchema>;

import { AGENT_VIEW_STATUSES } from "./statuses.ts";

export { AGENT_VIEW_STATUSES };

export const listAgentsQuerySchema = z.object({
  status: z.enum(AGENT_VIEW_STATUSES).optional(),
  /** The class of what GSE last said (lib/gse/status-class.ts): alive, degraded, transitional, gone, unknown. */
  class: statusClassSchema.optional(),
  version: z.string().min(1).optional(),
  outdated: z.stringbool().optional(),
  /** Last seen alive before / after this time (ISO 8601); agents never seen match neither. */
  seen_before: z.iso.datetime({ offset: true }).optional(),
  seen_after: z.iso.datetime({ offset: true }).optional(),
  /** `k=v`: agents labelled so (lib/fleet/labels.ts). */
  label: z
    .string()
    .regex(/^[^=]+=.*$/, "is k=v")
    .refine((kv) => labelKeySchema.safeParse(kv.slice(0, kv.indexOf("="))).success, "the key is not a label key")
    .optional(),
  limit: decimalInt({ min: 1, max: 1000, fallback: 100 }),
  cursor: z.string().min(1).max(4096).optional(),
});
export type ListAgentsQuery = z.infer<typeof listAgentsQuerySchema>;

/** GET /v1/fleet/agents/{agent_id}/history's path. */
export const agentPathSchema = z.object({ agent_id: z.string().min(1) });

export const historyQuerySchema = z.object({
  limit: decimalInt({ min: 1, max: 500, fallback: 50 }),
  cursor: z.string().min(1).max(4096).optional(),
});

export const agentViewSchema = z.object({
  agent_id: z.string(),
  status: z.enum(AGENT_VIEW_STATUSES),
  misses: z.int(),
  sources: z.array(z.string()),
  registered_at: z.string(),
  first_seen_at: z.string().nullable(),
  last_seen: z.string().nullable(),
  changed_at: z.string(),
  bk_cloud_id: z.int().optional(),
  version: z.string().optional(),
  run_mode: z.int().optional(),
  status_code: z.int().optional(),
  /** The class of GSE's last answer about it; absent while GSE never answered for it (pending). */
  status_class: statusClassSchema.optional(),
  /** Since when (ISO 8601) a poll first saw it in its current transitional stay; `stuck_at` once that stay was reported stuck. */
  transitional_since: z.string().optional(),
  stuck_at: z.string().optional(),
  outdated: z.boolean(),
  record: z.record(z.string(), z.unknown()).nullable(),
  /** The operator's labels (PUT/PATCH /v1/fleet/agents/{agent_id}/labels); the API answers {} when none. */
  labels: z.record(z.string(), z.string()).optional(),
});
export type AgentView = z.infer<typeof agentViewSchema>;

export const listAgentsDataSchema = z.object({ agents: z.array(agentViewSchema), next_cursor: z.string().nullable() });
export const historyDataSchema = z.object({
  agent: agentViewSchema.nullable(),
  transitions: z.array(transitionSchema.extend({ at: z.string() })),
  next_cursor: z.string().nullable(),
});
export const registerDataSchema = z.object({ registered: z.int(), already_watched: z.int() });
export const unregisterDataSchema = z.object({ unregistered: z.int(), not_watched: z.int() });
export const summaryDataSchema = fleetSummarySchema.nullable();

/** PUT /v1/fleet/agents/{agent_id}/labels: the agent's labels, all of them. */
export const putLabelsBodySchema = z.strictObject({ labels: labelsSchema });
/** PATCH /v1/fleet/agents/{agent_id}/labels: labels to set (added or changed) and keys to remove. */
export const patchLabelsBodySchema = z
  .strictObject({
    set: labelsSchema.optional(),
    remove: z.array(labelKeySchema).min(1).max(MAX_LABELS_PER_AGENT).optional(),
  })
  .refine((b) => b.set !== undefined || b.remove !== undefined, { message: "name set or remove", path: ["set"] })
  .refine((b) => !(b.remove ?? []).some((k) => b.set !== undefined && k in b.set), {
    message: "a key cannot be both set and removed",
    path: ["remove"],
  });
export type PatchLabelsBody = z.infer<typeof patchLabelsBodySchema>;
export const labelsDataSchema = z.object({ agent_id: z.string(), labels: z.record(z.string(), z.string()) });
