/**
 * The alert log behind the status page: every message published on the alerts topic reaches the
 * alert-log queue (SNS → SQS, in SNS's envelope) and becomes one entry in the fleet table
 * (lib/fleet/log.ts). What reaches the topic, all understood here: gse-control's alerts in the one
 * alert shape (lib/core/alerts.ts), the two shapes they had before it (heartbeat alerts with
 * `kind`, `count`, `sample`; config and command alerts with `type`, `severity`, `object`,
 * `summary`), still in the queue during a deploy, CloudWatch alarms (`AlarmName`,
 * `NewStateValue`), and anything else as text.
 */
import * as z from "zod";
import { ALERT_SEVERITIES, type AlertSeverity } from "../core/alert-catalog.ts";
import { alertSchema, type Alert } from "../core/alert-shape.ts";
import { redactString } from "../core/logger.ts";
import { snsInSqsSchema, type QueueRecord } from "../core/records.ts";
import type { AlertLogEntry, FleetLog } from "../fleet/log.ts";

/** Longest summary kept per alert: the page shows one line, the full alert went to the subscribers. */
export const MAX_ALERT_MESSAGE_CHARS = 500;
/** Agents named in the summary of a heartbeat alert. */
const SAMPLE_IN_SUMMARY = 5;

/** A heartbeat alert from before the one alert shape. */
const legacyHeartbeatAlertSchema = z.looseObject({
  source: z.literal("gse-control/heartbeat"),
  kind: z.string(),
  count: z.number(),
  sample: z.array(z.looseObject({ agent_id: z.string() })).default([]),
  truncated: z.boolean().optional(),
  detail: z.string().optional(),
  /** Carried since the alert catalogue (lib/core/alert-catalog.ts); older ones lack it. */
  severity: z.enum(ALERT_SEVERITIES).optional(),
});

/** A config or command alert from before the one alert shape. */
const legacyTypedAlertSchema = z.looseObject({
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

/**
 * The log's kind of an alert: its catalogue type, except that heartbeat alerts keep the kind the
 * status page has always shown for them (`lost`, not `heartbeat.lost`).
 */
const logKindOf = (type: Alert["type"]): string => (type.startsWith("heartbeat.") ? type.slice("heartbeat.".length) : type);

function describeOneAlert(alert: Alert): Described {
  return { kind: logKindOf(alert.type), severity: alert.severity, message: oneLine(alert.summary), object: alert.object, source: alert.source };
}

function describeLegacyHeartbeat(alert: z.infer<typeof legacyHeartbeatAlertSchema>, subject: string): Described {
  const { kind, sample, count, detail, severity } = alert;
  const named = sample.slice(0, SAMPLE_IN_SUMMARY).map((s) => s.agent_id);
  const more = count > named.length ? ` and ${count - named.length} more` : "";
  const agents = named.length ? `: ${named.join(", ")}${more}` : "";
  return {
    kind,
    severity: severity ?? HEARTBEAT_SEVERITY[kind] ?? "info",
    message: oneLine(detail ?? `${subject.replace(/^gse-control: /, "")}${agents}`),
    source: alert.source,
  };
}

function describeAlarm(alarm: z.infer<typeof alarmSchema>): Described {
  const { AlarmName, NewStateValue, NewStateReason } = alarm;
  return {
    kind: `alarm.${NewStateValue.toLowerCase()}`,
    severity: NewStateValue === "ALARM" ? "critical" : "info",
    message: oneLine(NewStateReason ?? `${AlarmName} is ${NewStateValue}`),
    object: AlarmName,
    source: "cloudwatch",
  };
}

/** What an alert's own body says: kind, severity, a summary, what it is about. */
export function describeAlert(message: string, subject: string): Described {
  const body = parseJson(message);
  const alert = alertSchema.safeParse(body);
  if (alert.success) return describeOneAlert(alert.data);
  const heartbeat = legacyHeartbeatAlertSchema.safeParse(body);
  if (heartbeat.success) return describeLegacyHeartbeat(heartbeat.data, subject);
  const typed = legacyTypedAlertSchema.safeParse(body);
  if (typed.success) {
    const { type, severity, object, summary } = typed.data;
    return { kind: type, severity: severity ?? "warning", message: oneLine(summary ?? subject), ...(object ? { object } : {}) };
  }
  const alarm = alarmSchema.safeParse(body);
  if (alarm.success) return describeAlarm(alarm.data);
  return { kind: "message", severity: "info", message: oneLine(message) };
}

/**
 * One queued alert as a log entry: SNS's envelope gives its id, subject and time; a message sent
 * to the queue directly (no envelope) is logged under the SQS message id and time.
 */
export function alertEntryFromRecord(record: QueueRecord, now: number): AlertLogEntry {
  const envelope = snsInSqsSchema.safeParse(record.body);
  const sent = Number(record.attributes.SentTimestamp);
  const fallbackAt = Number.isFinite(sent) && sent > 0 ? sent : now;
  if (!envelope.success) {
    return { at: fallbackAt, message_id: record.messageId, subject: "", ...describeAlert(record.body, "") };
  }
  const { MessageId, Message, Subject, Timestamp } = envelope.data;
  const published = Date.parse(Timestamp);
  const subject = oneLine(Subject ?? "");
  return { at: Number.isNaN(published) ? fallbackAt : published, message_id: MessageId, subject, ...describeAlert(Message, subject) };
}

export interface AlertLogDeps {
  readonly log: Pick<FleetLog, "putAlert">;
  readonly now: () => number;
}

/** Keeps one queued alert; a DynamoDB failure throws, so the record is retried by SQS. */
export async function logAlert(deps: AlertLogDeps, record: QueueRecord): Promise<AlertLogEntry> {
  const entry = alertEntryFromRecord(record, deps.now());
  await deps.log.putAlert(entry);
  return entry;
}
