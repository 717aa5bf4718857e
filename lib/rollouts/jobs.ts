/**
 * The rollout jobs on the automation queue: `rollout.tick` (a rollout's next step; it queues the
 * one after itself) and `rollout.start` (another system starts a rollout with the POST body;
 * idempotent on rollout_id). The rules every queue job shares are lib/automation/jobs.ts's.
 */
import * as z from "zod";
import { asJob, AUTOMATION_AUTHOR, jobBody, type JobHandler } from "../automation/jobs.ts";
import { JOB_TYPES } from "../automation/job-types.ts";
import { isSupersededTick, rolloutSpecOf, startRollout, tickAndSchedule } from "./api.ts";
import type { RolloutDeps } from "./deps.ts";
import { rolloutIdSchema, startRolloutSchema, type StartRolloutRequest } from "./schemas.ts";
import { rolloutSettingsSchema } from "./spec.ts";
import { MAX_COMMAND_TARGETS } from "../commands/schemas.ts";
import { ValidationError } from "../core/errors.ts";
import { agentIdSchema } from "../gse/schemas.ts";
import { targetQuerySchema } from "../targets/schemas.ts";
import { templateRefSchema } from "../templates/schemas.ts";

/** `due`: when it was queued for (the rollout's next_tick_at then); a tick whose due is no longer the rollout's was superseded. */
export const rolloutTickJobSchema = z.object({ type: z.literal(JOB_TYPES.rolloutTick), rollout_id: rolloutIdSchema, due: z.number().optional() });
export const rolloutStartJobSchema = startRolloutSchema.extend({ type: z.literal(JOB_TYPES.rolloutStart) });

/**
 * A `command.dispatch` job that names a template (queue-driven automation): a run of it, as the
 * rollout whose id is the message_id, to the agents listed or queried, the job's settings over the
 * template's.
 */
export const templatedDispatchJobSchema = rolloutSettingsSchema.extend({
  type: z.literal(JOB_TYPES.commandDispatch),
  message_id: rolloutIdSchema,
  agent_id_list: z.array(agentIdSchema).min(1).max(MAX_COMMAND_TARGETS).optional(),
  target_query: targetQuerySchema.optional(),
  template: templateRefSchema,
  start_at: z.iso.datetime({ offset: true }).optional(),
});

const isTemplated = (job: Readonly<Record<string, unknown>>): boolean => job.template !== undefined;
export { isTemplated as isTemplatedDispatch };

function startBodyOf(job: z.infer<typeof templatedDispatchJobSchema>): StartRolloutRequest {
  const { type: _type, message_id, agent_id_list, target_query, ...rest } = job;
  if ((agent_id_list === undefined) === (target_query === undefined)) {
    throw new ValidationError([
      { path: agent_id_list === undefined ? "agent_id_list" : "target_query", message: "give agent_id_list or target_query, one of the two" },
    ]);
  }
  return { ...rest, rollout_id: message_id, targets: agent_id_list ? { agent_id_list } : { query: target_query as NonNullable<typeof target_query> } };
}

export function rolloutJobs(deps: RolloutDeps): Record<typeof JOB_TYPES.rolloutTick | typeof JOB_TYPES.rolloutStart | "templatedDispatch", JobHandler> {
  return {
    templatedDispatch: (job) =>
      asJob(async () => {
        const body = startBodyOf(jobBody(templatedDispatchJobSchema, job));
        await startRollout(deps, await rolloutSpecOf(deps, body), AUTOMATION_AUTHOR);
      }),
    [JOB_TYPES.rolloutTick]: async (job) => {
      const { rollout_id, due } = jobBody(rolloutTickJobSchema, job);
      if (await isSupersededTick(deps, rollout_id, due)) return;
      await tickAndSchedule(deps, rollout_id);
    },
    [JOB_TYPES.rolloutStart]: (job) =>
      asJob(async () => {
        const { type: _type, ...body } = jobBody(rolloutStartJobSchema, job);
        await startRollout(deps, await rolloutSpecOf(deps, body), AUTOMATION_AUTHOR);
      }),
  };
}
