/**
 * APM's automation jobs on the queue: `probe.start` / `probe.stop` and `probe.upgrade` (once
 * `probe_start` / `probe_stop` / `probe_upgrade`, names still accepted: lib/automation/job-types.ts).
 * - With `bk_biz_id`, `app_name` and `datasource`: the app's datasource is started or stopped,
 *   exactly as through the API (datasources.ts), attributed to `automation`.
 * - With `agent_id_list` and `probe`: a plain tracked command to those agents telling the plugin
 *   to start or stop (what these jobs did before APM apps existed).
 * A redelivered message is the same action: start/stop of a datasource already in that state does
 * nothing, and commands are keyed by a message id derived from the SQS message id.
 */
import * as z from "zod";
import { asJob, AUTOMATION_AUTHOR, jobBody, type JobEnvelope, type JobHandler } from "../automation/jobs.ts";
import { JOB_TYPES } from "../automation/job-types.ts";
import { dispatchCommand } from "../commands/api.ts";
import { MAX_COMMAND_TARGETS, rolloutLimitSchema } from "../commands/schemas.ts";
import { agentIdSchema } from "../gse/schemas.ts";
import type { ApmDeps } from "./apps.ts";
import { DatasourceApplyError, setDatasource } from "./datasources.ts";
import { upgradeProbes } from "./probes.ts";
import { appNameSchema, datasourceNameSchema, datasourceRequestSchema, upgradeRequestSchema } from "./schemas.ts";

const appSchema = z.object({ bk_biz_id: z.int(), app_name: appNameSchema });
const startOrStop = z.enum([JOB_TYPES.probeStart, JOB_TYPES.probeStop]);

/**
 * The prefix of a command's default message id, by job type: the names these jobs had when the
 * ids were first derived, so a message redelivered across the rename keys the same command.
 */
const COMMAND_ID_PREFIX = { [JOB_TYPES.probeStart]: "probe_start", [JOB_TYPES.probeStop]: "probe_stop", [JOB_TYPES.probeUpgrade]: "probe_upgrade" } as const;

/** Start or stop an app's datasource; with a strategy, bake or gate its probes are told by a rollout, as through the API. */
export const datasourceJobSchema = datasourceRequestSchema.extend({ ...appSchema.shape, type: startOrStop, datasource: datasourceNameSchema });

/** Start or stop a probe on agents: a tracked command whose content tells the plugin what to do. */
export const probeJobSchema = z.object({
  type: startOrStop,
  /** Defaults to `probe_start.<SQS message id>` (or probe_stop), so a redelivery is the same command. */
  message_id: z.string().min(1).max(64).optional(),
  agent_id_list: z.array(agentIdSchema).min(1).max(MAX_COMMAND_TARGETS),
  probe: z.string().min(1).max(128),
  params: z.record(z.string(), z.unknown()).optional(),
  max_concurrency: rolloutLimitSchema.optional(),
  max_errors: rolloutLimitSchema.optional(),
  reply_timeout_seconds: z
    .int()
    .min(1)
    .max(7 * 86_400)
    .optional(),
});

export const upgradeJobSchema = upgradeRequestSchema.extend({ type: z.literal(JOB_TYPES.probeUpgrade), bk_biz_id: z.int(), app_name: appNameSchema });

/** The jobs `probe.start` and `probe.stop`: an app's datasource, or a probe on agents. */
export function probeJob(deps: ApmDeps): JobHandler {
  return (job: JobEnvelope, record) =>
    asJob(async () => {
      if ("app_name" in job || "datasource" in job) {
        const p = jobBody(datasourceJobSchema, job);
        try {
          const { type, bk_biz_id, app_name, datasource, ...request } = p;
          await setDatasource(deps, bk_biz_id, app_name, datasource, type === JOB_TYPES.probeStart ? "start" : "stop", AUTOMATION_AUTHOR, request);
        } catch (error) {
          // Recorded on the datasource and alerted: the job is done, a human decides what next.
          if (!(error instanceof DatasourceApplyError)) throw error;
        }
        return;
      }
      const p = jobBody(probeJobSchema, job);
      const { type, probe: name, params, message_id, ...rollout } = p;
      await dispatchCommand(
        deps.commands,
        {
          ...rollout,
          message_id: message_id ?? `${COMMAND_ID_PREFIX[type]}.${record.messageId}`.slice(0, 64),
          content: JSON.stringify({ action: type === JOB_TYPES.probeStart ? "start" : "stop", probe: name, params: params ?? {} }),
        },
        AUTOMATION_AUTHOR,
      );
    });
}

/** The job `probe.upgrade`: an app's probes to a version, as through the API. */
export function probeUpgradeJob(deps: ApmDeps): JobHandler {
  return (job, record) =>
    asJob(async () => {
      const { type, bk_biz_id, app_name, ...request } = jobBody(upgradeJobSchema, job);
      await upgradeProbes(
        deps,
        bk_biz_id,
        app_name,
        { ...request, message_id: request.message_id ?? `${COMMAND_ID_PREFIX[type]}.${record.messageId}`.slice(0, 64) },
        AUTOMATION_AUTHOR,
      );
    });
}
