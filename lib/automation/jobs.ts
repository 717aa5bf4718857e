import type { Logger } from "@aws-lambda-powertools/logger";
import type { SQSClient } from "@aws-sdk/client-sqs";
import * as z from "zod";
import { AppError, ConflictError, GseError } from "../core/errors.ts";
import { jsonLimitProblems } from "../http/json-limits.ts";
import { withLogKeys } from "../core/logger.ts";
import { sqsSender } from "../core/queue.ts";
import type { QueueRecord } from "../core/records.ts";

/**
 * An automation job on the queue: `{"type": "<job>", ...}`. Each job type brings its own schema
 * for the rest of the body when it is registered.
 */
export const jobEnvelopeSchema = z.looseObject({ type: z.string().min(1).max(64) });
export type JobEnvelope = z.infer<typeof jobEnvelopeSchema>;

export type JobHandler = (job: JobEnvelope, record: QueueRecord) => Promise<void>;

/** A job that can never succeed: retrying it would only delay the dead-letter queue. */
export class PoisonJobError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PoisonJobError";
  }
}

/** Where a zod check found a job body wrong: `path: message; …` (an empty path is the body). */
export const jobIssues = (error: z.ZodError, prefix = ""): string =>
  error.issues.map((i) => `${prefix}${i.path.join(".") || "(body)"}: ${i.message}`).join("; ");

/** A job body by its type's schema; one that fails is poison (`<what>: <issues>`), no retry can fix it. */
export function parseJobBody<S extends z.ZodType>(schema: S, job: unknown, what: string): z.infer<S> {
  const parsed = schema.safeParse(job);
  if (parsed.success) return parsed.data;
  throw new PoisonJobError(`${what}: ${jobIssues(parsed.error)}`);
}

/** Who the commands and config versions of queue jobs are attributed to. */
export const AUTOMATION_AUTHOR = "automation";

/** A job body by its type's schema, or poison naming the job type and what is wrong. */
export const jobBody = <S extends z.ZodType>(schema: S, job: JobEnvelope): z.infer<S> => parseJobBody(schema, job, `invalid ${job.type} job`);

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

/**
 * The job a record carries and its handler. A type named by `aliases` (an old name) runs as the
 * type it maps to, and its handler sees that name: a handler knows one name for its job.
 */
export function parseJob(
  record: QueueRecord,
  jobs: Readonly<Record<string, JobHandler>>,
  aliases: Readonly<Record<string, string>> = {},
): { job: JobEnvelope; run: JobHandler } {
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch {
    throw new PoisonJobError("body is not JSON");
  }
  // The same limits as an HTTP body: a job carrying what DynamoDB cannot store would fail every retry.
  const limits = jsonLimitProblems(body);
  if (limits.length > 0) throw new PoisonJobError(`body over the input limits: ${limits.map((p) => `${p.path || "(body)"}: ${p.message}`).join("; ")}`);
  const parsed = jobEnvelopeSchema.safeParse(body);
  if (!parsed.success) throw new PoisonJobError(`not a job envelope: ${jobIssues(parsed.error)}`);
  // Own keys only: a type such as "constructor" must not find Object's.
  const type = Object.hasOwn(aliases, parsed.data.type) ? (aliases[parsed.data.type] as string) : parsed.data.type;
  const run = Object.hasOwn(jobs, type) ? jobs[type] : undefined;
  if (!run) throw new PoisonJobError(`unknown job type "${parsed.data.type}"; known: ${Object.keys(jobs).join(", ") || "none"}`);
  return { job: { ...parsed.data, type }, run };
}

/**
 * Runs one queued job. A poison job (unreadable, unknown, or refused by its own type) goes to
 * the dead-letter queue at once, with the reason as a message attribute; any other failure is
 * left to SQS's retries and redrive.
 */
export function createJobRunner(options: {
  jobs: Readonly<Record<string, JobHandler>>;
  /** Old job type names, each run as the type it maps to (lib/automation/job-types.ts). */
  aliases?: Readonly<Record<string, string>>;
  sqs: SQSClient;
  deadLetterQueueUrl: string;
  logger: Logger;
  /** Receives after which SQS moves a failing message to the dead-letter queue (the queue's redrive policy). */
  maxReceiveCount?: number;
  /** Told of every job set aside, so a person hears of it (an alert). */
  onDeadLetter?: (record: QueueRecord, reason: string) => Promise<void>;
}): (record: QueueRecord) => Promise<void> {
  const deadLetterQueue = sqsSender(options.sqs, options.deadLetterQueueUrl);
  const deadLetter = async (record: QueueRecord, error: PoisonJobError): Promise<void> => {
    options.logger.warn("poison job moved to the dead-letter queue", { message_id: record.messageId, reason: error.message });
    await deadLetterQueue.sendBody(record.body, { attributes: { reason: error.message.slice(0, 1024), source_message_id: record.messageId } });
  };
  return async function runJob(record) {
    try {
      const parsed = parseJob(record, options.jobs, options.aliases);
      // A job type refusing its body is as final as an unknown type: no retry can fix it.
      await withLogKeys({ job_type: parsed.job.type, message_id: record.messageId }, () => parsed.run(parsed.job, record));
    } catch (error) {
      if (!(error instanceof PoisonJobError)) {
        // The last receive SQS allows: after this failure it goes to the dead-letter queue by itself.
        const receives = Number(record.attributes?.ApproximateReceiveCount ?? "1");
        if (options.maxReceiveCount !== undefined && receives >= options.maxReceiveCount) {
          await options
            .onDeadLetter?.(record, `failed ${receives} times, last: ${error instanceof Error ? error.message : String(error)}`)
            .catch((alertError: unknown) => options.logger.error("could not alert on a job going to the dead-letter queue", { error: String(alertError) }));
        }
        throw error;
      }
      await deadLetter(record, error);
      await options.onDeadLetter?.(record, error.message);
    }
  };
}
