/**
 * The shapes of the fleet table's items (lib/fleet/store.ts), apart from the repository so that
 * what only needs the shapes (the API's schemas, OpenAPI) does not bundle the DynamoDB client.
 */
import * as z from "zod";
import { statusClassSchema } from "../gse/status-class.ts";

export const FLEET_PARTITIONS = 64;

import { FLEET_STATUSES } from "./statuses.ts";

export { FLEET_STATUSES, type FleetStatus } from "./statuses.ts";

/**
 * What a poll can record in an agent's history. Which of them are published on the alerts topic
 * is the heartbeat's business (lib/heartbeat/alerts.ts): `newly_seen` and `version_changed` are news,
 * history only.
 */
export const TRANSITION_KINDS = ["lost", "recovered", "version_changed", "newly_seen", "unknown", "stuck"] as const;
export type TransitionKind = (typeof TRANSITION_KINDS)[number];

/** How an agent came to be watched: the API, or a part of the system that saw it (lib/fleet/service.ts registerSeen). */
export const REGISTRATION_SOURCES = ["api", "route", "command", "apm"] as const;
export type RegistrationSource = (typeof REGISTRATION_SOURCES)[number];

/** DynamoDB's limit for a partition key value, in UTF-8 bytes. */
const MAX_KEY_BYTES = 2048;

/** Whether an id can be watched: a DynamoDB key holds it with its longest prefix (`history#`). */
export const isWatchableAgentId = (id: string): boolean => id.length > 0 && Buffer.byteLength(`history#${id}`, "utf8") <= MAX_KEY_BYTES;

/**
 * One watched agent.
 * - `status`: the heartbeat's verdict: pending (never seen running or down: not polled yet, or
 *   only seen in a transitional state), alive (a transitional agent that was alive stays alive),
 *   lost (down K polls in a row, or first seen down), unknown (GSE does not know the id).
 * - `status_code`: GSE's last raw code (absent when GSE omitted the id, or with the legacy
 *   get_agent_status, which has none); `status_class`: the class of the last observation
 *   (lib/gse/status-class.ts). Items written before classes existed have no `status_class`:
 *   lib/heartbeat/rules.ts classOfAgent derives it.
 * - `misses`: polls in a row it was seen down while alive, as of its last write; `miss_poll` the poll
 *   of that write, `miss_seq` that poll's number among the partition's polls (`meta`/`polled` `nNN`
 *   + 1). While the agent stays down with the same answer nothing is written: each later poll that
 *   answered for its whole partition is one more miss (lib/fleet/view-rules.ts missesOf), and the
 *   poll that makes it lost writes it once.
 * - `seen_at` (ms): when it was last seen alive *as of its last write*; an alive agent's real last_seen
 *   is the last poll of its partition (lib/heartbeat/rules.ts lastSeen), so it is not rewritten per poll.
 * - `transitional_since` (ms): the poll that first saw it in a transitional state, cleared when it
 *   leaves it (to alive, degraded or gone); `stuck_at` (ms): when that stay was reported `stuck`.
 * - `status_code`, `status_class`, `version`, `run_mode`, `record`: what GSE said at the last change.
 *   Any change of them is written, so the item is exact as of its partition's polled time
 *   (`meta`/`polled`): what GSE says now, unless a later poll has not answered for the partition.
 * - `rev`: bumped by every write; the poll's writes are conditional on the rev it read.
 * - `expires_at` (epoch s): TTL, set only while the agent is not seen alive.
 * - `alerts_due`: per poll id, the transitions that poll's write of the agent made
 *   (`<shard>#<kinds>#<from>[#v=<previous version>]`, lib/heartbeat/alert-marks.ts): a re-run of that
 *   shard finds it, counts the alert again and rewrites the history.
 * - `labels`, `labels_rev`: the operator's (lib/fleet/labels.ts) and a count of their writes, written alone by an UpdateItem of `labels`, never
 *   by a poll, so neither write loses the other and the rev the poll conditions on does not move.
 *   Read leniently (any string map): one bad stored label must not hide the agent from every read.
 */
/**
 * How long the heartbeat keeps the mark of a poll's write on an agent (lib/heartbeat/alert-marks.ts):
 * longer than a shard can wait for its re-run. Here because the unregister keeps the marks of this age too.
 */
export const ALERT_MARK_HORIZON_MS = 30 * 60_000;

/** The sort key of an unregistered agent's item kept under a poll it owes transitions to (`poll#<id>`). */
export const OWED_PREFIX = "owed#";

export const fleetAgentSchema = z.looseObject({
  agent_id: z.string().min(1),
  registered_at: z.number(),
  sources: z.array(z.string()),
  status: z.enum(FLEET_STATUSES),
  misses: z.int().nonnegative(),
  miss_poll: z.string().optional(),
  miss_seq: z.int().nonnegative().optional(),
  first_seen_at: z.number().optional(),
  seen_at: z.number().optional(),
  changed_at: z.number(),
  bk_cloud_id: z.int().optional(),
  version: z.string().optional(),
  run_mode: z.int().optional(),
  status_code: z.int().optional(),
  status_class: statusClassSchema.optional(),
  transitional_since: z.number().optional(),
  stuck_at: z.number().optional(),
  record: z.record(z.string(), z.unknown()).optional(),
  rev: z.int().nonnegative(),
  expires_at: z.int().optional(),
  alerts_due: z.record(z.string(), z.string()).optional(),
  labels: z.record(z.string(), z.string()).optional(),
  labels_rev: z.int().nonnegative().optional(),
});
export type FleetAgent = z.infer<typeof fleetAgentSchema>;

export const transitionSchema = z.object({
  agent_id: z.string(),
  kind: z.enum(TRANSITION_KINDS),
  at: z.number(),
  poll_id: z.string(),
  from: z.enum(FLEET_STATUSES),
  to: z.enum(FLEET_STATUSES),
  previous_version: z.string().optional(),
  version: z.string().optional(),
  /** What GSE said in the poll that made it: its raw code and that code's name, and their class. */
  status_code: z.int().optional(),
  status_name: z.string().optional(),
  status_class: statusClassSchema.optional(),
  record: z.record(z.string(), z.unknown()).optional(),
});
export type TransitionRecord = z.infer<typeof transitionSchema>;

/** The fleet view as of the last completed poll (`meta`/`summary`), written by the poll's last shard. */
export const fleetSummarySchema = z.object({
  poll_id: z.string(),
  as_of: z.string(),
  duration_ms: z.number(),
  shards: z.int(),
  agents: z.int(),
  by_status: z.record(z.enum(FLEET_STATUSES), z.int()),
  /** Agents by the class of what GSE last said (alive, degraded, transitional, gone, unknown); agents never answered for are in none. Absent from a summary written before classes existed. */
  by_class: z.record(statusClassSchema, z.int()).optional(),
  /** Alive, but seen down by the last poll(s): not yet lost (flap suppression). */
  suspect: z.int(),
  by_version: z.array(z.object({ version: z.string(), count: z.int(), outdated: z.boolean() })),
  outdated: z.int(),
  min_version: z.string().nullable(),
  gse_calls: z.int(),
  gse_failed_chunks: z.int(),
});
export type FleetSummary = z.infer<typeof fleetSummarySchema>;
