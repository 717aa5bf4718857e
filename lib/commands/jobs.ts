/**
 * The command job other systems put on the automation queue: `dispatch` (the config jobs are
 * lib/config-versions/jobs.ts, the probe jobs lib/apm/jobs.ts). It is validated by its schema (a
 * body that fails it goes to the dead-letter queue at once) and idempotent: a redelivered message
 * finds the command of its message_id. The rules every queue job shares (asJob, parseJob, who
 * automation's work is attributed to) are here too, until the job registry gives them a home.
 */
import { z } from "zod";
import { parseJobBody, PoisonJobError, type JobEnvelope, type JobHandler } from "../automation/jobs.ts";
import { AppError, ConflictError, GseError } from "../core/errors.ts";
import { dispatchCommand } from "./api.ts";
import type { CommandDeps } from "./engine.ts";
import { dispatchCommandSchema } from "./schemas.ts";

/** Who the commands and config versions of queue jobs are attributed to. */
export const AUTOMATION_AUTHOR = "automation";

export const dispatchJobSchema = dispatchCommandSchema.extend({ type: z.literal("dispatch") });

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

export function commandJobs(deps: CommandDeps): Record<string, JobHandler> {
  return {
    dispatch: (job) =>
      asJob(async () => {
        const { type: _type, ...request } = parseJob(dispatchJobSchema, job);
        await dispatchCommand(deps, request, AUTOMATION_AUTHOR);
      }),
  };
}
