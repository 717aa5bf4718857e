/**
 * What the alert about a dead-lettered automation job says: the job can never run, so a person
 * must read its reason. The shape and the sending are the one alert's (lib/core/alerts.ts).
 */
import type { Alert } from "../core/alerts.ts";

/** Characters of the job's body the alert quotes: enough to tell the job, never the whole batch. */
export const DEAD_LETTER_BODY_CHARS = 2048;
/** A summary is one line on the status page. */
const SUMMARY_CHARS = 500;

export type DeadLetterAlert = Alert & {
  readonly type: "automation.dead_letter";
  readonly source: "gse-control/automation";
  /** Why it can never run (the job runner's words). */
  readonly reason: string;
  /** The start of the job's message, as queued. */
  readonly body: string;
};

/** The alert of one job set aside in the dead-letter queue (`job`: the SQS record it came in). */
export function deadLetterAlert(job: { readonly messageId: string; readonly body: string }, reason: string, at: number): DeadLetterAlert {
  return {
    type: "automation.dead_letter",
    severity: "warning",
    object: `sqs#${job.messageId}`,
    summary: `automation job set aside in the dead-letter queue: ${reason}`.slice(0, SUMMARY_CHARS),
    reason,
    body: job.body.slice(0, DEAD_LETTER_BODY_CHARS),
    at: new Date(at).toISOString(),
    source: "gse-control/automation",
  };
}
