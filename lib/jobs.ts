/**
 * The job table: every job type the automation queue runs, beside the feature module whose handler
 * runs it, as lib/routes.ts is the table of HTTP routes. Above the features, so that they import
 * only the job runner and the names (lib/automation/job-types.ts, old names too); a type without a
 * handler here does not compile.
 */
import { agentWriteBackJob } from "./agent-state/write-back.ts";
import type { ApmDeps } from "./apm/apps.ts";
import { probeJob, probeUpgradeJob } from "./apm/jobs.ts";
import type { CommandDeps } from "./commands/engine.ts";
import { commandJobs } from "./commands/jobs.ts";
import { retryJobHandler, tickJobHandler } from "./commands/retry.ts";
import type { VersionedDeps } from "./config-versions/deps.ts";
import { configJobs } from "./config-versions/jobs.ts";
import { decideConfigJob } from "./config-versions/decide.ts";
import { desiredBakeJob } from "./desired/bake.ts";
import type { ApplyDeps } from "./desired/deps.ts";
import { heartbeatShardJob } from "./heartbeat/jobs.ts";
import type { RolloutDeps } from "./rollouts/deps.ts";
import { isTemplatedDispatch, rolloutJobs } from "./rollouts/jobs.ts";
import type { HeartbeatDeps } from "./heartbeat/poll.ts";
import { JOB_TYPES, type JobType } from "./automation/job-types.ts";
import type { JobHandler } from "./automation/jobs.ts";

export interface JobRegistryDeps {
  readonly writeBack: Parameters<typeof agentWriteBackJob>[0];
  readonly heartbeat: HeartbeatDeps;
  readonly commands: CommandDeps;
  readonly configs: VersionedDeps;
  readonly apm: ApmDeps;
  readonly rollouts: RolloutDeps;
  /** Desired-state applies: their bake ticks. */
  readonly desired: ApplyDeps;
  /** How long one command tick may send before it hands the rest back to the queue. */
  readonly tickBudgetMs: number;
}

/** A handler of a module that keys its jobs by name: a name it does not have fails the cold start, not a job. */
function handlerNamed(jobs: Readonly<Record<string, JobHandler>>, name: string): JobHandler {
  const handler = jobs[name];
  if (!handler) throw new Error(`no handler for the job "${name}"`);
  return handler;
}

export function jobRegistry(deps: JobRegistryDeps): Readonly<Record<JobType, JobHandler>> {
  const commands = commandJobs(deps.commands, deps.rollouts.fleet.store);
  const configs = configJobs(deps.configs);
  const probe = probeJob(deps.apm);
  const rollouts = rolloutJobs(deps.rollouts);
  return {
    [JOB_TYPES.agentWriteBack]: agentWriteBackJob(deps.writeBack),
    [JOB_TYPES.heartbeatShard]: heartbeatShardJob(deps.heartbeat),
    [JOB_TYPES.commandTick]: tickJobHandler(deps.commands, deps.tickBudgetMs),
    [JOB_TYPES.commandRetry]: retryJobHandler(deps.commands),
    // A dispatch naming a template is a run of it: a rollout (docs/rollouts.md §4).
    [JOB_TYPES.commandDispatch]: (job, record) =>
      (isTemplatedDispatch(job) ? rollouts.templatedDispatch : handlerNamed(commands, JOB_TYPES.commandDispatch))(job, record),
    [JOB_TYPES.configApply]: handlerNamed(configs, JOB_TYPES.configApply),
    [JOB_TYPES.configRollback]: handlerNamed(configs, JOB_TYPES.configRollback),
    [JOB_TYPES.configDecide]: decideConfigJob(deps.configs),
    [JOB_TYPES.probeStart]: probe,
    [JOB_TYPES.probeStop]: probe,
    [JOB_TYPES.probeUpgrade]: probeUpgradeJob(deps.apm),
    [JOB_TYPES.rolloutTick]: rollouts[JOB_TYPES.rolloutTick],
    [JOB_TYPES.rolloutStart]: rollouts[JOB_TYPES.rolloutStart],
    [JOB_TYPES.desiredBake]: desiredBakeJob(deps.desired),
  };
}
