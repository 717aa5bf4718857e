/**
 * Automation jobs other systems put on the queue (issue 6): `dispatch`, `apply_config`,
 * `rollback_config` (the probe jobs are APM's: lib/apm/jobs.ts). Each is validated by its schema (a body that
 * fails it goes to the dead-letter queue at once) and idempotent: a redelivered message finds
 * the command of its message_id, or the idempotency record of its SQS message id.
 */
import { z } from "zod";
import { jobIssues, parseJobBody, PoisonJobError, type JobEnvelope, type JobHandler } from "../automation/jobs.ts";
import { JOB_TYPES } from "../automation/job-types.ts";
import { AppError, ConflictError, GseError } from "../core/errors.ts";
import { objectPathSchema } from "../config-versions/api.ts";
import { changeConfig, rollbackTo } from "../config-versions/apply.ts";
import type { VersionedDeps } from "../config-versions/deps.ts";
import { withIdempotency } from "../config-versions/idempotency.ts";
import { OPERATIONS } from "../gse/operations.ts";
import { dispatchCommand } from "./api.ts";
import type { CommandDeps } from "./engine.ts";
import { dispatchCommandSchema } from "./schemas.ts";

/** Who the commands and config versions of queue jobs are attributed to. */
export const AUTOMATION_AUTHOR = "automation";

export const dispatchJobSchema = dispatchCommandSchema.extend({ type: z.literal(JOB_TYPES.commandDispatch) });

const CONFIG_OPERATIONS = ["add_streamto", "update_streamto", "delete_streamto", "add_route", "update_route", "delete_route"] as const;

export const applyConfigJobSchema = z.object({
  type: z.literal(JOB_TYPES.configApply),
  operation: z.enum(CONFIG_OPERATIONS),
  /** The operation's GSE request body, checked against its own schema. */
  body: z.record(z.string(), z.unknown()),
  /** Defaults to the SQS message id: a redelivery is the same change. */
  idempotency_key: z.string().min(1).max(128).optional(),
  author: z.string().min(1).max(128).optional(),
});

export const rollbackConfigJobSchema = z.object({
  type: z.literal(JOB_TYPES.configRollback),
  kind: objectPathSchema.shape.kind,
  id: z.int().positive(),
  version: z.int().nonnegative(),
  idempotency_key: z.string().min(1).max(128).optional(),
  author: z.string().min(1).max(128).optional(),
});

export const parseJob = <S extends z.ZodType>(schema: S, job: JobEnvelope): z.infer<S> => parseJobBody(schema, job, `invalid ${job.type} job`);

/**
 * The caller's mistakes (bad body, unknown object) can never succeed: dead-letter them. GSE
 * refusing a config change is recorded by the versioned flow (REJECTED: nothing changed): the job
 * is done. A conflict (another change still in flight after the wait) or an outage is retried by SQS.
 */
export async function asJob(run: () => Promise<unknown>): Promise<void> {
  try {
    await run();
  } catch (error) {
    if (error instanceof GseError && error.kind === "business") return;
    if (error instanceof ConflictError || error instanceof GseError) throw error;
    if (error instanceof AppError && error.status >= 400 && error.status < 500) throw new PoisonJobError(error.message);
    throw error;
  }
}

export function automationJobs(deps: { commands: CommandDeps; configs: VersionedDeps }): Record<string, JobHandler> {
  return {
    dispatch: (job) =>
      asJob(async () => {
        const { type: _type, ...request } = parseJob(dispatchJobSchema, job);
        await dispatchCommand(deps.commands, request, AUTOMATION_AUTHOR);
      }),
    apply_config: (job, record) =>
      asJob(async () => {
        const p = parseJob(applyConfigJobSchema, job);
        const body = OPERATIONS[p.operation].request.safeParse(p.body);
        if (!body.success) throw new PoisonJobError(`invalid apply_config body for ${p.operation}: ${jobIssues(body.error, "body.")}`);
        const key = p.idempotency_key ?? `sqs:${record.messageId}`;
        const author = p.author ?? AUTOMATION_AUTHOR;
        await withIdempotency(deps.configs, { appCode: AUTOMATION_AUTHOR, operation: p.operation, body: body.data, key }, () =>
          changeConfig(deps.configs, p.operation, body.data as never, { author, idempotencyKey: key }),
        );
      }),
    rollback_config: (job, record) =>
      asJob(async () => {
        const p = parseJob(rollbackConfigJobSchema, job);
        const key = p.idempotency_key ?? `sqs:${record.messageId}`;
        await withIdempotency(deps.configs, { appCode: AUTOMATION_AUTHOR, operation: "rollback_config", body: { kind: p.kind, id: p.id, version: p.version }, key }, () =>
          rollbackTo(deps.configs, { kind: p.kind, id: p.id }, p.version, { author: p.author ?? AUTOMATION_AUTHOR }),
        );
      }),
  };
}
