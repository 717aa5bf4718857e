/**
 * The alert log behind the status page: every message published on the alerts topic reaches the
 * alert-log queue (SNS → SQS, in SNS's envelope) and becomes one entry in the fleet table
 * (lib/fleet/log.ts). What the system publishes has four shapes, all understood here:
 * heartbeat alerts (`kind`, `count`, `sample`), config and command alerts (`type`, `severity`,
 * `object`, `summary`), CloudWatch alarms (`AlarmName`, `NewStateValue`), and anything else as text.
 */
import type { SQSRecord } from "aws-lambda";
import { z } from "zod";
import { redactString } from "../core/logger.ts";
import { ALERT_SEVERITIES } from "../fleet/log-items.ts";
import type { AlertLogEntry, AlertSeverity, FleetLog } from "../fleet/log.ts";

/** Longest summary kept per alert: the page shows one line, the full alert went to the subscribers. */
export const MAX_ALERT_MESSAGE_CHARS = 500;
/** Agents named in the summary of a heartbeat alert. */
const SAMPLE_IN_SUMMARY = 5;

/** SNS's envelope around a message delivered to SQS (raw delivery off, the default). */
const snsEnvelopeSchema = z.looseObject({
  Type: z.literal("Notification"),
  MessageId: z.string().min(1),
  Message: z.string(),
  Subject: z.string().nullish(),
  Timestamp: z.string().optional(),
});

const heartbeatAlertSchema = z.looseObject({
  source: z.literal("gse-control/heartbeat"),
  kind: z.string(),
  count: z.number(),
  sample: z.array(z.looseObject({ agent_id: z.string() })).default([]),
  truncated: z.boolean().optional(),
  detail: z.string().optional(),
  /** Carried by every heartbeat alert since the alert catalogue (lib/core/alert-catalog.ts); older ones lack it. */
  severity: z.enum(ALERT_SEVERITIES).optional(),
});

const typedAlertSchema = z.looseObject({
  type: z.string().min(1),
  severity: z.enum(ALERT_SEVERITIES).optional(),
  object: z.string().optional(),
  summary: z.string().optional(),
});

const alarmSchema = z.looseObject({
  AlarmName: z.string(),
  NewStateValue: z.string(),
  NewStateReason: z.string().optional(),
});

/** Heartbeat alerts published before they carried their severity: kinds that need a person (the rest were news). */
const HEARTBEAT_SEVERITY: Readonly<Record<string, AlertSeverity>> = { gse_unreachable: "critical", lost: "warning", stuck: "warning", unknown: "warning" };

const oneLine = (text: string): string => redactString(text.replace(/\s+/g, " ").trim()).slice(0, MAX_ALERT_MESSAGE_CHARS);

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

type Described = Pick<AlertLogEntry, "kind" | "severity" | "message"> & Partial<Pick<AlertLogEntry, "object" | "source">>;

/** What an alert's own body says: kind, severity, a summary, what it is about. */
export function describeAlert(message: string, subject: string): Described {
  const body = parseJson(message);
  const heartbeat = heartbeatAlertSchema.safeParse(body);
  if (heartbeat.success) {
    const { kind, sample, count, detail, severity } = heartbeat.data;
    const named = sample.slice(0, SAMPLE_IN_SUMMARY).map((s) => s.agent_id);
    const more = count > named.length ? ` and ${count - named.length} more` : "";
    const agents = named.length ? `: ${named.join(", ")}${more}` : "";
    return { kind, severity: severity ?? HEARTBEAT_SEVERITY[kind] ?? "info", message: oneLine(detail ?? `${subject.replace(/^gse-control: /, "")}${agents}`), source: heartbeat.data.source };
  }
  const typed = typedAlertSchema.safeParse(body);
  if (typed.success) {
    const { type, severity, object, summary } = typed.data;
    return { kind: type, severity: severity ?? "warning", message: oneLine(summary ?? subject), ...(object ? { object } : {}) };
  }
  const alarm = alarmSchema.safeParse(body);
  if (alarm.success) {
    const { AlarmName, NewStateValue, NewStateReason } = alarm.data;
    return {
      kind: `alarm.${NewStateValue.toLowerCase()}`,
      severity: NewStateValue === "ALARM" ? "critical" : "info",
      message: oneLine(NewStateReason ?? `${AlarmName} is ${NewStateValue}`),
      object: AlarmName,
      source: "cloudwatch",
    };
  }
  return { kind: "message", severity: "info", message: oneLine(message) };
}

/**
 * One queued alert as a log entry: SNS's envelope gives its id, subject and time; a message sent
 * to the queue directly (no envelope) is logged under the SQS message id and time.
 */
export function alertEntryFromRecord(record: SQSRecord, now: number): AlertLogEntry {
  const envelope = snsEnvelopeSchema.safeParse(parseJson(record.body));
  const sent = Number(record.attributes.SentTimestamp);
  const fallbackAt = Number.isFinite(sent) && sent > 0 ? sent : now;
  if (!envelope.success) {
    return { at: fallbackAt, message_id: record.messageId, subject: "", ...describeAlert(record.body, "") };
  }
  const { MessageId, Message, Subject, Timestamp } = envelope.data;
  const published = Timestamp === undefined ? Number.NaN : Date.parse(Timestamp);
  const subject = oneLine(Subject ?? "");
  return { at: Number.isNaN(published) ? fallbackAt : published, message_id: MessageId, subject, ...describeAlert(Message, subject) };
}

export interface AlertLogDeps {
  readonly log: Pick<FleetLog, "putAlert">;
  readonly now: () => number;
}

/** Keeps one queued alert; a DynamoDB failure throws, so the record is retried by SQS. */
export async function logAlert(deps: AlertLogDeps, record: SQSRecord): Promise<AlertLogEntry> {
  const entry = alertEntryFromRecord(record, deps.now());
  await deps.log.putAlert(entry);
  return entry;
}
