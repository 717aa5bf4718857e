/**
 * The configs table's item shapes, apart from its store (configs.ts) so that what only needs a
 * shape (the API's answer schemas, the OpenAPI document, the CLI) does not load the DynamoDB client.
 */
import * as z from "zod";
import { configDocumentSchema } from "./documents.ts";
import { TABLES } from "../resources.ts";

/**
 * PENDING → APPLIED (GSE holds it), REJECTED (GSE refused it, or it never reached GSE: nothing
 * changed), or FAILED (accepted but not verified, partly applied, or the outcome is unknown) →
 * ROLLED_BACK (what it changed was undone, or GSE was found holding another client's state and
 * that was adopted) | ROLLBACK_FAILED (a person must look).
 */
export const VERSION_STATUSES = ["PENDING", "APPLIED", "REJECTED", "FAILED", "ROLLED_BACK", "ROLLBACK_FAILED"] as const;
export const versionStatusSchema = z.enum(VERSION_STATUSES);
export type VersionStatus = z.infer<typeof versionStatusSchema>;

export const storedErrorSchema = z.object({
  message: z.string(),
  kind: z.string().optional(),
  gse_code: z.number().optional(),
  outcome: z.string().optional(),
});
export type StoredError = z.infer<typeof storedErrorSchema>;

/** Why an `adopt` version records what GSE held: GSE was found holding something we did not write. */
export const adoptionSchema = z.object({
  after_version: z.int().nonnegative(),
  /** `changed_elsewhere`: another client changed or removed what the failed version wrote; `gone`: GSE no longer has the object. */
  reason: z.enum(["changed_elsewhere", "gone"]),
});
export type Adoption = z.infer<typeof adoptionSchema>;

/** One version of one object; immutable except for its status and what the status records. */
export const versionItemSchema = z.object({
  pk: z.string(),
  sk: z.string(),
  object: z.string(),
  version: z.int().nonnegative(),
  /**
   * The GSE operation, `rollback_to`, an APM action, or `adopt`: what GSE held when we first saw
   * the object (version 0), or what recovery found GSE holding instead of what a failed version
   * wrote (`adoption` says after which version and why).
   */
  operation: z.string(),
  /** The request as received; kept whole so an undo or a roll-back-to-N can restore credentials. */
  request: z.unknown().optional(),
  document: configDocumentSchema,
  author: z.string(),
  created_at: z.number(),
  parent_version: z.int().nonnegative().optional(),
  /** For rollback_to: the version whose document this one re-applies. */
  source_version: z.int().nonnegative().optional(),
  status: versionStatusSchema,
  gse_response: z.unknown().optional(),
  error: storedErrorSchema.optional(),
  allocated_id: z.int().optional(),
  idempotency_key: z.string().optional(),
  /** When the request that made it answers 504 if not done (epoch ms): past it, config.decide may decide the version. */
  deadline_at: z.number().optional(),
  applied_at: z.number().optional(),
  rejected_at: z.number().optional(),
  failed_at: z.number().optional(),
  rolled_back_at: z.number().optional(),
  rollback_error: storedErrorSchema.optional(),
  /** Recovery passes that could not read or write GSE (transient faults); bounded, then ROLLBACK_FAILED. */
  recovery_attempts: z.int().nonnegative().optional(),
  recovery_error: storedErrorSchema.optional(),
  recovery_attempted_at: z.number().optional(),
  /** GSE writes the undo sent (the field keeps its published name): 0 when nothing of the change was left in GSE to undo. */
  rollback_writes: z.int().nonnegative().optional(),
  /** On an `adopt` version recorded by recovery or by a refused change: which version it followed and why. */
  adoption: adoptionSchema.optional(),
  /** On a failed version: the `adopt` version recording what GSE held instead. */
  adopted_version: z.int().nonnegative().optional(),
  /** Set once the alert about this version's failure went out (re-delivered records send none). */
  alerted_at: z.number().optional(),
});
export type VersionItem = z.infer<typeof versionItemSchema>;

export const headItemSchema = z.object({
  pk: z.string(),
  sk: z.literal("head"),
  object: z.string(),
  current_version: z.int().nonnegative(),
  last_good_version: z.int().nonnegative(),
  /** The highest version number used, applied or not: the next one is this plus one. */
  latest_version: z.int().nonnegative(),
  pending_version: z.int().nonnegative().optional(),
  /** When the pending version was claimed: how the reconciler finds a stuck one. */
  pending_since: z.number().optional(),
  updated_at: z.number(),
  /** The last drift alerted about (a digest of the difference), so one drift raises one alert. */
  drift_signature: z.string().optional(),
  drift_alerted_at: z.number().optional(),
});
export type HeadItem = z.infer<typeof headItemSchema>;

export const ADD_SK_PREFIX = "add#";
/** Whether a configs item is a pending-add record: `pending` (apart) or `add#<uuid>` (beside its object). */
export const isPendingAddSk = (sk: unknown): boolean => sk === "pending" || (typeof sk === "string" && sk.startsWith(ADD_SK_PREFIX));

const TTL = TABLES.configs.ttlAttribute;

/**
 * An add, until GSE has taken it: one whose id GSE allocates cannot live under its object yet; one
 * that gives its id is kept beside the object, not as a version, so a refused add (the id is
 * taken) never touches the object's versions.
 */
export const pendingAddItemSchema = z.object({
  pk: z.string(),
  /** `pending` (GSE allocates the id) or `add#<uuid>` (beside the object whose id the add gives). */
  sk: z.string().refine(isPendingAddSk, "not a pending-add key"),
  operation: z.enum(["add_streamto", "add_route"]),
  request: z.unknown(),
  document: configDocumentSchema,
  author: z.string(),
  created_at: z.number(),
  status: versionStatusSchema,
  object: z.string().optional(),
  allocated_id: z.int().optional(),
  gse_response: z.unknown().optional(),
  error: storedErrorSchema.optional(),
  idempotency_key: z.string().optional(),
  failed_at: z.number().optional(),
  rejected_at: z.number().optional(),
  rolled_back_at: z.number().optional(),
  rollback_error: storedErrorSchema.optional(),
  rollback_writes: z.int().nonnegative().optional(),
  recovery_attempts: z.int().nonnegative().optional(),
  recovery_error: storedErrorSchema.optional(),
  recovery_attempted_at: z.number().optional(),
  /** What GSE held instead of this add when recovery looked (another client's object), recorded as the object's head. */
  adopted_version: z.int().nonnegative().optional(),
  alerted_at: z.number().optional(),
  [TTL]: z.int().optional(),
});
export type PendingAddItem = z.infer<typeof pendingAddItemSchema>;
