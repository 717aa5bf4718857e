/**
 * Every job type the automation queue runs, named `<feature>.<verb>`. This file names them and
 * imports nothing, so the features that send a job and the registry that runs it
 * (lib/jobs.ts, where each type meets its handler) share one spelling without
 * importing each other.
 */
export const JOB_TYPES = {
  /** lib/agent-state/write-back.ts: what a lookup heard from GSE, written behind its answer. */
  agentWriteBack: "agent-state.write-back",
  /** lib/heartbeat/jobs.ts: one shard of a heartbeat poll. */
  heartbeatShard: "heartbeat.shard",
  /** lib/commands/retry.ts: a command's next batches, or its watchdog. */
  commandTick: "command.tick",
  /** lib/commands/retry.ts: one agent's delayed resend. */
  commandRetry: "command.retry",
  /** lib/commands/jobs.ts: a command another system puts on the queue. */
  commandDispatch: "command.dispatch",
  /** A config change another system puts on the queue (lib/config-versions/jobs.ts). */
  configApply: "config.apply",
  /** A roll-back-to-N another system puts on the queue (lib/config-versions/jobs.ts). */
  configRollback: "config.rollback",
  /** lib/config-versions/decide.ts: a version its request left PENDING, decided from GSE within seconds. */
  configDecide: "config.decide",
  /** lib/apm/jobs.ts: start an app's datasource, or a probe on agents. */
  probeStart: "probe.start",
  /** lib/apm/jobs.ts: stop an app's datasource, or a probe on agents. */
  probeStop: "probe.stop",
  /** lib/apm/jobs.ts: upgrade an app's probes. */
  probeUpgrade: "probe.upgrade",
  /** lib/rollouts/jobs.ts: a rollout's next step (a wave, the gate, the bake's end); it reschedules itself. */
  rolloutTick: "rollout.tick",
  /** lib/rollouts/jobs.ts: a rollout another system puts on the queue (the POST /v1/rollouts body). */
  rolloutStart: "rollout.start",
  /** lib/desired/bake.ts: one look at a desired-state apply's bake gate; it queues the next while the apply bakes. */
  desiredBake: "desired.bake",
} as const;

export type JobType = (typeof JOB_TYPES)[keyof typeof JOB_TYPES];

/**
 * The names these jobs had before they were named alike. Messages already on the queue during a
 * deploy carry them, and other systems that put jobs on the queue send them, so they run as the
 * job they name; the handler sees the current name.
 */
export const LEGACY_JOB_TYPES: Readonly<Record<string, JobType>> = {
  heartbeat_shard: JOB_TYPES.heartbeatShard,
  dispatch: JOB_TYPES.commandDispatch,
  apply_config: JOB_TYPES.configApply,
  rollback_config: JOB_TYPES.configRollback,
  probe_start: JOB_TYPES.probeStart,
  probe_stop: JOB_TYPES.probeStop,
  probe_upgrade: JOB_TYPES.probeUpgrade,
};
