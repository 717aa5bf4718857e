/**
 * The rollout jobs on the automation queue: `rollout.tick` (a rollout's next step; it queues the
 * one after itself) and `rollout.start` (another system starts a rollout with the POST body;
 * idempotent on rollout_id). The rules every queue job shares are lib/automation/jobs.ts's.
 */
import { z } from "zod";
import { asJob, AUTOMATION_AUTHOR, jobBody, type JobHandler } from "../automation/jobs.ts";
import { JOB_TYPES } from "../automation/job-types.ts";
import { isSupersededTick, rolloutSpecOf, startRollout, tickAndSchedule } from "./api.ts";
import type { RolloutDeps } from "./deps.ts";
import { rolloutIdSchema, startRolloutSchema } from "./schemas.ts";

/** `due`: when it was queued for (the rollout's next_tick_at then); a tick whose due is no longer the rollout's was superseded. */
export const rolloutTickJobSchema = z.object({ type: z.literal(JOB_TYPES.rolloutTick), rollout_id: rolloutIdSchema, due: z.number().optional() });
export const rolloutStartJobSchema = startRolloutSchema.extend({ type: z.literal(JOB_TYPES.rolloutStart) });

export function rolloutJobs(deps: RolloutDeps): Record<typeof JOB_TYPES.rolloutTick | typeof JOB_TYPES.rolloutStart, JobHandler> {
  return {
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
