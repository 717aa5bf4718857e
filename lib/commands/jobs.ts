/**
 * The command job other systems put on the automation queue: `dispatch` (the config jobs are
 * lib/config-versions/jobs.ts, the probe jobs lib/apm/jobs.ts). It is validated by its schema (a
 * body that fails it goes to the dead-letter queue at once) and idempotent: a redelivered message
 * finds the command of its message_id. The rules every queue job shares are lib/automation/jobs.ts's.
 */
import * as z from "zod";
import { asJob, AUTOMATION_AUTHOR, jobBody, type JobHandler } from "../automation/jobs.ts";
import { JOB_TYPES } from "../automation/job-types.ts";
import { dispatchCommand } from "./api.ts";
import type { CommandDeps } from "./engine.ts";
import { dispatchBodySchema } from "./schemas.ts";
import { commandRequestOf, type CommandTargetDeps } from "./targets.ts";

export const dispatchJobSchema = dispatchBodySchema.extend({ type: z.literal(JOB_TYPES.commandDispatch) });

/** `fleet`: what a job's target_query is resolved over. A `dispatch` job naming a template is a rollout's (lib/jobs.ts). */
export function commandJobs(deps: CommandDeps, fleet?: CommandTargetDeps["fleet"]): Record<string, JobHandler> {
  return {
    [JOB_TYPES.commandDispatch]: (job) =>
      asJob(async () => {
        const { type: _type, ...body } = jobBody(dispatchJobSchema, job);
        await dispatchCommand(deps, await commandRequestOf({ store: deps.store, fleet }, body), AUTOMATION_AUTHOR);
      }),
  };
}
