/**
 * Automation jobs other systems put on the queue (issue 6): `dispatch`, `apply_config`,
 * `rollback_config`, `probe_start`, `probe_stop`. Each is validated by its schema (a body that
 * fails it goes to the dead-letter queue at once) and idempotent: a redelivered message finds
 * the command of its message_id, or the idempotency record of its SQS message id.
 */
import type { SQSRecord } from "aws-lambda";
import { z } from "zod";
import { jobIssues, parseJobBody, PoisonJobError, type JobEnvelope, type JobHandler } from "../automation.ts";
import { AppError, ConflictError, GseError } from "../errors.ts";
import { objectPathSchema } from "../config-versions/api.ts";
import { changeConfig, rollbackTo } from "../config-versions/apply.ts";
import type { VersionedDeps } from "../config-versions/deps.ts";
import { withIdempotency } from "../config-versions/idempotency.ts";
import { agentIdSchema } from "../gse/schemas.ts";
import { OPERATIONS } from "../gse/operations.ts";
import { dispatchCommand } from "./api.ts";
import type { CommandDeps } from "./engine.ts";
import { dispatchCommandSchema, MAX_COMMAND_TARGETS, rolloutLimitSchema } from "./schemas.ts";

/** Who the commands and config versions of queue jobs are attributed to. */
export const AUTOMATION_AUTHOR = "automation";

export const dispatchJobSchema = dispatchCommandSchema.extend({ type: z.literal("dispatch") });

const CONFIG_OPERATIONS = ["add_streamto", "update_streamto", "delete_streamto", "add_route", "update_route", "delete_route"] as const;

export const applyConfigJobSchema = z.object({
  type: z.literal("apply_config"),
  operation: z.enum(CONFIG_OPERATIONS),
  /** The operation's GSE request body, checked against its own schema. */
  body: z.record(z.string(), z.unknown()),
  /** Defaults to the SQS message id: a redelivery is the same change. */
  idempotency_key: z.string().min(1).max(128).optional(),
  author: z.string().min(1).max(128).optional(),
});

export const rollbackConfigJobSchema = z.object({
  type: z.literal("rollback_config"),
  kind: objectPathSchema.shape.kind,
  id: z.int().positive(),
  version: z.int().nonnegative(),
  idempotency_key: z.string().min(1).max(128).optional(),
  author: z.string().min(1).max(128).optional(),
});

/** Start or stop a probe on agents: a tracked command whose content tells the plugin what to do. */
export const probeJobSchema = z.object({
  type: z.enum(["probe_start", "probe_stop"]),
  /** Defaults to `<type>.<SQS message id>`, so a redelivery is the same command. */
  message_id: z.string().min(1).max(64).optional(),
  agent_id_list: z.array(agentIdSchema).min(1).max(MAX_COMMAND_TARGETS),
  probe: z.string().min(1).max(128),
  params: z.record(z.string(), z.unknown()).optional(),
  max_concurrency: rolloutLimitSchema.optional(),
  max_errors: rolloutLimitSchema.optional(),
  reply_timeout_seconds: z.int().min(1).max(7 * 86_400).optional(),
});

const parse = <S extends z.ZodType>(schema: S, job: JobEnvelope): z.infer<S> => parseJobBody(schema, job, `invalid ${job.type} job`);

/**
 * The caller's mistakes (bad body, unknown object) can never succeed: dead-letter them. GSE
 * refusing a config change is recorded by the versioned flow (FAILED, rolled back, alerted):
 * the job is done. A conflict (another change in flight) or an outage is retried by SQS.
 */
async function asJob(run: () => Promise<unknown>): Promise<void> {
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
  const probe: JobHandler = (job: JobEnvelope, record: SQSRecord) =>
    asJob(async () => {
      const p = parse(probeJobSchema, job);
      const { type, probe: name, params, message_id, ...rollout } = p;
      await dispatchCommand(
        deps.commands,
        { ...rollout, message_id: message_id ?? `${type}.${record.messageId}`.slice(0, 64), content: JSON.stringify({ action: type === "probe_start" ? "start" : "stop", probe: name, params: params ?? {} }) },
        AUTOMATION_AUTHOR,
      );
    });
  return {
    dispatch: (job) =>
      asJob(async () => {
        const { type: _type, ...request } = parse(dispatchJobSchema, job);
        await dispatchCommand(deps.commands, request, AUTOMATION_AUTHOR);
      }),
    apply_config: (job, record) =>
      asJob(async () => {
        const p = parse(applyConfigJobSchema, job);
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
        const p = parse(rollbackConfigJobSchema, job);
        const key = p.idempotency_key ?? `sqs:${record.messageId}`;
        await withIdempotency(deps.configs, { appCode: AUTOMATION_AUTHOR, operation: "rollback_config", body: { kind: p.kind, id: p.id, version: p.version }, key }, () =>
          rollbackTo(deps.configs, { kind: p.kind, id: p.id }, p.version, { author: p.author ?? AUTOMATION_AUTHOR }),
        );
      }),
    probe_start: probe,
    probe_stop: probe,
  };
}
