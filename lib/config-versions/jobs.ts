/**
 * The configuration jobs other systems put on the automation queue: `config.apply` (one GSE
 * stream_to/route change) and `config.rollback` (a roll-back-to-version-N); the old names
 * `apply_config`/`rollback_config` still run as these (lib/automation/job-types.ts). Each is validated by
 * its schema (a body that fails it goes to the dead-letter queue at once) and idempotent: a
 * redelivered message finds the idempotency record of its key, by default its SQS message id.
 */
import * as z from "zod";
import { JOB_TYPES } from "../automation/job-types.ts";
import { jobIssues, PoisonJobError, type JobHandler, asJob, AUTOMATION_AUTHOR, jobBody } from "../automation/jobs.ts";
import { OPERATIONS } from "../gse/operations.ts";
import { objectPathSchema } from "./api.ts";
import { changeConfig, rollbackTo } from "./apply.ts";
import type { VersionedDeps } from "./deps.ts";
import { withIdempotency } from "./idempotency.ts";

export const APPLY_CONFIG_JOB = JOB_TYPES.configApply;
export const ROLLBACK_CONFIG_JOB = JOB_TYPES.configRollback;

const CONFIG_OPERATIONS = ["add_streamto", "update_streamto", "delete_streamto", "add_route", "update_route", "delete_route"] as const;

export const applyConfigJobSchema = z.object({
  type: z.literal(APPLY_CONFIG_JOB),
  operation: z.enum(CONFIG_OPERATIONS),
  /** The operation's GSE request body, checked against its own schema. */
  body: z.record(z.string(), z.unknown()),
  /** Defaults to the SQS message id: a redelivery is the same change. */
  idempotency_key: z.string().min(1).max(128).optional(),
  author: z.string().min(1).max(128).optional(),
});

export const rollbackConfigJobSchema = z.object({
  type: z.literal(ROLLBACK_CONFIG_JOB),
  kind: objectPathSchema.shape.kind,
  id: z.int().positive(),
  version: z.int().nonnegative(),
  idempotency_key: z.string().min(1).max(128).optional(),
  author: z.string().min(1).max(128).optional(),
});

export function configJobs(deps: VersionedDeps): Record<string, JobHandler> {
  return {
    [APPLY_CONFIG_JOB]: (job, record) =>
      asJob(async () => {
        const p = jobBody(applyConfigJobSchema, job);
        const body = OPERATIONS[p.operation].request.safeParse(p.body);
        if (!body.success) throw new PoisonJobError(`invalid apply_config body for ${p.operation}: ${jobIssues(body.error, "body.")}`);
        const key = p.idempotency_key ?? `sqs:${record.messageId}`;
        const author = p.author ?? AUTOMATION_AUTHOR;
        await withIdempotency(deps, { appCode: AUTOMATION_AUTHOR, operation: p.operation, body: body.data, key }, () =>
          changeConfig(deps, p.operation, body.data as never, { author, idempotencyKey: key }),
        );
      }),
    [ROLLBACK_CONFIG_JOB]: (job, record) =>
      asJob(async () => {
        const p = jobBody(rollbackConfigJobSchema, job);
        const key = p.idempotency_key ?? `sqs:${record.messageId}`;
        await withIdempotency(
          deps,
          { appCode: AUTOMATION_AUTHOR, operation: "rollback_config", body: { kind: p.kind, id: p.id, version: p.version }, key },
          () => rollbackTo(deps, { kind: p.kind, id: p.id }, p.version, { author: p.author ?? AUTOMATION_AUTHOR }),
        );
      }),
  };
}
