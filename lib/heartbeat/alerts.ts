/**
 * The heartbeat's alerts on the SNS alerts topic: one per poll per kind, aggregated (a count, and
 * a bounded sample of agents each with its status code, class and last raw GSE record), and
 * deduplicated across polls by a fingerprint kept in the fleet table for the dedup window
 * (DynamoDB TTL ends it). Which kinds exist, and their severities, is lib/core/alert-catalog.ts's;
 * the shape is the one alert's (lib/core/alerts.ts), with the heartbeat's own fields beside it.
 */
import type { SNSClient } from "@aws-sdk/client-sns";
import { createHash } from "node:crypto";
import * as z from "zod";
import { severityOf, type AlertType } from "../core/alert-catalog.ts";
import { alertFields, createAlertPublisher } from "../core/alerts.ts";
import { deliver, type OutboxEntry } from "../core/outbox.ts";
import type { MetricsRecorder } from "../core/metrics.ts";
import type { FleetCalls, FleetStore, MetaChange, TransitionKind } from "../fleet/store.ts";
import { statusClassSchema } from "../gse/status-class.ts";

type HeartbeatKind<T> = T extends `heartbeat.${infer K}` ? K : never;

/** A heartbeat alert's kind: its catalogue type (lib/core/alert-catalog.ts) without `heartbeat.`. */
export type AlertKind = HeartbeatKind<AlertType>;
export const ALERT_KINDS = ["lost", "stuck", "unknown", "gse_unreachable", "recovered", "gse_reachable"] as const satisfies readonly AlertKind[];
/** A `heartbeat.*` type of the catalogue missing from ALERT_KINDS is a type error here. */
export const EVERY_ALERT_KIND_LISTED: [Exclude<AlertKind, (typeof ALERT_KINDS)[number]>] extends [never] ? true : never = true;

/** The alerts a poll raises from its transitions (the other two are about GSE itself). */
export const TRANSITION_ALERT_KINDS = ["lost", "stuck", "unknown", "recovered"] as const satisfies readonly AlertKind[];
export type TransitionAlertKind = (typeof TRANSITION_ALERT_KINDS)[number];

/**
 * What each transition raises. The catalogue's rule: an alert means the system may not be in the
 * state asked, or a person must act, and an all-clear ends one that was sent. `newly_seen` and
 * `version_changed` are news: the agent's history and the fleet view have them, the topic never.
 */
export const ALERT_OF_TRANSITION: { readonly [K in TransitionKind]: TransitionAlertKind | null } = {
  lost: "lost",
  stuck: "stuck",
  unknown: "unknown",
  recovered: "recovered",
  newly_seen: null,
  version_changed: null,
};

/** An alert kind's catalogue type: `lost` → `heartbeat.lost`. */
export const alertTypeOf = (kind: AlertKind): AlertType & `heartbeat.${AlertKind}` => `heartbeat.${kind}`;

export const sampleEntrySchema = z.object({
  agent_id: z.string(),
  status: z.string(),
  last_seen: z.string().nullable(),
  version: z.string().optional(),
  previous_version: z.string().optional(),
  /** GSE's raw code in the poll that raised the alert (null when it gave none: an omitted id, the legacy call), and its class. */
  status_code: z.int().nullable(),
  status_class: statusClassSchema,
  /** The code's name (`upgrading`), when there is a code. */
  status_name: z.string().optional(),
  /** For `stuck`: when a poll first saw it transitional (ISO 8601). */
  transitional_since: z.string().optional(),
  /** GSE's last raw record of the agent (for an unknown id: the last one GSE gave, if ever). */
  record: z.record(z.string(), z.unknown()).nullable(),
});
export type SampleEntry = z.infer<typeof sampleEntrySchema>;

/** What one alert says: the one alert (lib/core/alerts.ts) and the heartbeat's fields; the SNS message is this, as JSON. */
export const heartbeatAlertSchema = z.object({
  ...alertFields,
  source: z.literal("gse-control/heartbeat"),
  /** The catalogue's type (`heartbeat.lost`) and the severity it is sent with; `kind` is kept for older subscribers. */
  type: z.templateLiteral(["heartbeat.", z.enum(ALERT_KINDS)]),
  kind: z.enum(ALERT_KINDS),
  poll_id: z.string(),
  count: z.int().nonnegative(),
  sample: z.array(sampleEntrySchema),
  /** True when `count` is above the sample's length. */
  truncated: z.boolean(),
  detail: z.string().optional(),
});
export type HeartbeatAlert = z.infer<typeof heartbeatAlertSchema>;

/** What a poll knows of an alert; the rest (type, severity, object, summary) follows from its kind. */
export type HeartbeatAlertFields = Omit<HeartbeatAlert, "kind" | "type" | "severity" | "object" | "summary">;

const SUBJECTS: Readonly<Record<AlertKind, (n: number) => string>> = {
  lost: (n) => `${n} agent${n === 1 ? "" : "s"} lost`,
  stuck: (n) => `${n} agent${n === 1 ? "" : "s"} stuck in a transitional state`,
  recovered: (n) => `${n} agent${n === 1 ? "" : "s"} recovered`,
  unknown: (n) => `${n} agent id${n === 1 ? "" : "s"} unknown to GSE`,
  gse_unreachable: () => "GSE unreachable: agent state not polled",
  gse_reachable: () => "GSE reachable again",
};

/** Agents named in an alert's summary: the sample has the rest. */
const AGENTS_IN_SUMMARY = 5;

/** The poll's words for the alert: how many, the first agents by id, and the detail it gave. */
function heartbeatSummary(kind: AlertKind, fields: Pick<HeartbeatAlertFields, "count" | "sample" | "detail">): string {
  const named = fields.sample.slice(0, AGENTS_IN_SUMMARY).map((s) => s.agent_id);
  const more = fields.count > named.length ? ` and ${fields.count - named.length} more` : "";
  const agents = named.length > 0 ? `: ${named.join(", ")}${more}` : "";
  return `${SUBJECTS[kind](fields.count)}${agents}${fields.detail !== undefined ? `; ${fields.detail}` : ""}`;
}

/** An alert of `kind` with its catalogue type and severity; about GSE itself or about the fleet's agents. */
export const heartbeatAlert = (kind: AlertKind, fields: HeartbeatAlertFields): HeartbeatAlert => ({
  ...fields,
  type: alertTypeOf(kind),
  severity: severityOf(alertTypeOf(kind)),
  object: kind === "gse_unreachable" || kind === "gse_reachable" ? "gse" : "fleet",
  summary: heartbeatSummary(kind, fields),
  kind,
});

/** SNS subjects are at most 100 characters. */
export const alertSubject = (alert: Pick<HeartbeatAlert, "kind" | "count">): string => `gse-control: ${SUBJECTS[alert.kind](alert.count)}`.slice(0, 100);

/**
 * The same event → the same fingerprint: kind, count, and per sampled agent its id, last_seen and
 * version (and for `stuck`, since when). A poll finished twice (a redelivered shard, a retried
 * finisher) or an event reported by two polls does not page anyone twice; the same agents lost
 * again later have another last_seen, so a second outage is never mistaken for the first.
 */
export function alertFingerprint(alert: Pick<HeartbeatAlert, "kind" | "count" | "sample">): string {
  const agents = alert.sample
    .map((s) => [s.agent_id, s.last_seen, s.version ?? null, ...(s.transitional_since !== undefined ? [s.transitional_since] : [])])
    .sort((a, b) => String(a[0]).localeCompare(String(b[0])));
  return createHash("sha256")
    .update(JSON.stringify([alert.kind, alert.count, agents]))
    .digest("hex")
    .slice(0, 32);
}

export interface AlertDeps {
  readonly store: FleetStore;
  readonly sns: SNSClient;
  readonly topicArn: string;
  readonly now: () => number;
  readonly dedupMs: number;
  readonly metrics?: MetricsRecorder;
}

/**
 * Publishes unless an identical alert went out within the window; returns whether this call raised
 * it. The dedup mark and the alert's outbox item are written in one transaction (conditional:
 * exactly one of two racing finishers raises it), then the alert is published and its item marked
 * sent. A crash or an SNS refusal after the transaction leaves the item to the outbox sweep
 * (lib/core/outbox.ts), which publishes it with the same `alert_id`.
 */
export async function publishAlert(
  deps: AlertDeps,
  alert: HeartbeatAlert,
  calls: FleetCalls,
  fingerprint = alertFingerprint(alert),
  meta?: MetaChange,
): Promise<boolean> {
  // The subject says how many, and `kind` stays an attribute: subscribers filter on it since before the catalogue.
  const entry: OutboxEntry = {
    alert: { ...alert, alert_id: `heartbeat.${alert.kind}#${alert.poll_id}#${fingerprint}` },
    options: { subject: alertSubject(alert), attributes: { kind: alert.kind } },
  };
  const fresh = await deps.store.putNewWithAlert(
    { pk: `alert#${alert.kind}`, sk: fingerprint, poll_id: alert.poll_id, expires_at: Math.floor((deps.now() + deps.dedupMs) / 1000) },
    entry,
    deps.now(),
    calls,
    meta,
  );
  if (!fresh) return false;
  await deliver(
    deps.store.outbox,
    createAlertPublisher({ sns: deps.sns, topicArn: deps.topicArn, ...(deps.metrics ? { metrics: deps.metrics } : {}) }),
    entry,
    deps.now,
  );
  return true;
}
