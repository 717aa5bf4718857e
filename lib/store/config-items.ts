/**
 * The configs table's item shapes, apart from its store (configs.ts) so that what only needs a
 * shape (the API's answer schemas, the OpenAPI document, the CLI) does not load the DynamoDB client.
 */
import { z } from "zod";
import { configDocumentSchema } from "../config-versions/documents.ts";

export const VERSION_STATUSES = ["PENDING", "APPLIED", "FAILED", "ROLLED_BACK", "ROLLBACK_FAILED"] as const;
export const versionStatusSchema = z.enum(VERSION_STATUSES);
export type VersionStatus = z.infer<typeof versionStatusSchema>;

export const storedErrorSchema = z.object({
  message: z.string(),
  kind: z.string().optional(),
  gse_code: z.number().optional(),
  outcome: z.string().optional(),
});
export type StoredError = z.infer<typeof storedErrorSchema>;

/** One version of one object; immutable except for its status and what the status records. */
export const versionItemSchema = z.object({
  pk: z.string(),
  sk: z.string(),
  object: z.string(),
  version: z.int().nonnegative(),
  /** The GSE operation, `adopt` (what GSE held when we first saw it) or `rollback_to`. */
  operation: z.string(),
  /** The request as received; kept whole so a rollback can restore credentials. */
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
  applied_at: z.number().optional(),
  failed_at: z.number().optional(),
  rolled_back_at: z.number().optional(),
  rollback_error: storedErrorSchema.optional(),
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

