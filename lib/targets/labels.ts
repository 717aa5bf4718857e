/**
 * An operator's labels on watched agents (docs/rollouts.md §2): the keys and values the label
 * routes take and a target query's `labels` matches. Apart from lib/targets/schemas.ts, whose
 * version range check brings semver's ranges into every function that imports it: the fleet's
 * label routes and agent filter check labels only.
 */
import * as z from "zod";

export const LABEL_KEY_PATTERN = /^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$/;
export const MAX_LABEL_VALUE_LENGTH = 63;
export const MAX_LABELS_PER_AGENT = 32;

export const labelKeySchema = z.string().regex(LABEL_KEY_PATTERN, "a label key is lower-case letters, digits, '.', '_' or '-', at most 63");
export const labelValueSchema = z.string().max(MAX_LABEL_VALUE_LENGTH);
export const labelsSchema = z
  .record(labelKeySchema, labelValueSchema)
  .refine((labels) => Object.keys(labels).length <= MAX_LABELS_PER_AGENT, `at most ${MAX_LABELS_PER_AGENT} labels`);
export type Labels = z.infer<typeof labelsSchema>;
