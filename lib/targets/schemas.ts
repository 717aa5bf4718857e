/**
 * A target list by query over the watched fleet (docs/rollouts.md §2): what an operator means by
 * "every alive agent of cloud 0 on 2.x labelled env=prod", resolved once at start and snapshotted.
 */
import { validRange } from "semver";
import * as z from "zod";
import { STATUS_CLASSES } from "../gse/status-class.ts";
import { labelsSchema } from "./labels.ts";

/** The classes of lib/gse/status-class.ts plus the fleet's own verdicts `lost` and `stuck`. */
export const TARGET_STATUS_CLASSES = [...STATUS_CLASSES, "lost", "stuck"] as const;

export const semverRangeSchema = z
  .string()
  .min(1)
  .max(200)
  .refine((range) => validRange(range) !== null, 'is not a semver range (e.g. ">=2.0.0 <3")');

export const targetQuerySchema = z
  .strictObject({
    status_class: z.array(z.enum(TARGET_STATUS_CLASSES)).min(1).optional(),
    version: semverRangeSchema.optional(),
    bk_cloud_id: z.array(z.int().nonnegative()).min(1).optional(),
    labels: labelsSchema.optional(),
    limit: z.int().min(1).max(200_000).optional(),
  })
  .refine(
    (q) => q.status_class !== undefined || q.version !== undefined || q.bk_cloud_id !== undefined || q.labels !== undefined,
    "name at least one of status_class, version, bk_cloud_id, labels",
  );
export type TargetQuery = z.infer<typeof targetQuerySchema>;
