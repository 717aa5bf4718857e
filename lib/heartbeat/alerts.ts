/**
 * The heartbeat's alerts on the SNS alerts topic: one per poll per kind, aggregated (a count, and
 * a bounded sample of agents each with its last raw GSE record), and deduplicated across polls by
 * a fingerprint kept in the fleet table for the dedup window (DynamoDB TTL ends it).
 */
import { PublishCommand, type SNSClient } from "@aws-sdk/client-sns";
import { createHash } from "node:crypto";
import { z } from "zod";
import type { FleetCalls, FleetStore } from "../store/fleet.ts";
import { TRANSITION_KINDS } from "../store/fleet.ts";

export const ALERT_KINDS = [...TRANSITION_KINDS, "gse_unreachable", "gse_reachable"] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

export const sampleEntrySchema = z.object({
  agent_id: z.string(),
  status: z.string(),
  last_seen: z.string().nullable(),
  version: z.string().optional(),
  previous_version: z.string().optional(),
  /** GSE's last raw record of the agent (for an unknown id: the last one GSE gave, if ever). */
  record: z.record(z.string(), z.unknown()).nullable(),
});
export type SampleEntry = z.infer<typeof sampleEntrySchema>;

/** What one alert says; the SNS message is this, as JSON. */
export const heartbeatAlertSchema = z.object({
  source: z.literal("gse-control/heartbeat"),
  kind: z.enum(ALERT_KINDS),
  poll_id: z.string(),
  at: z.string(),
  count: z.int().nonnegative(),
  sample: z.array(sampleEntrySchema),
  /** True when `count` is above the sample's length. */
  truncated: z.boolean(),
  detail: z.string().optional(),
});
export type HeartbeatAlert = z.infer<typeof heartbeatAlertSchema>;

const SUBJECTS: Readonly<Record<AlertKind, (n: number) => string>> = {
  lost: (n) => `${n} agent${n === 1 ? "" : "s"} lost`,
  recovered: (n) => `${n} agent${n === 1 ? "" : "s"} recovered`,
  version_changed: (n) => `${n} agent${n === 1 ? "" : "s"} changed version`,
  newly_seen: (n) => `${n} agent${n === 1 ? "" : "s"} newly seen`,
  unknown: (n) => `${n} agent id${n === 1 ? "" : "s"} unknown to GSE`,
  gse_unreachable: () => "GSE unreachable: agent state not polled",
  gse_reachable: () => "GSE reachable again",
};

/** SNS subjects are at most 100 characters. */
export const alertSubject = (alert: Pick<HeartbeatAlert, "kind" | "count">): string => `gse-control: ${SUBJECTS[alert.kind](alert.count)}`.slice(0, 100);

/**
 * The same event → the same fingerprint: kind, count, and per sampled agent its id, last_seen and
 * version. A poll finished twice (a redelivered shard, a retried finisher) or an event reported by
 * two polls does not page anyone twice; the same agents lost again later have another last_seen,
 * so a second outage is never mistaken for the first.
 */
export function alertFingerprint(alert: Pick<HeartbeatAlert, "kind" | "count" | "sample">): string {
  const agents = alert.sample.map((s) => [s.agent_id, s.last_seen, s.version ?? null]).sort((a, b) => String(a[0]).localeCompare(String(b[0])));
  return createHash("sha256").update(JSON.stringify([alert.kind, alert.count, agents])).digest("hex").slice(0, 32);
}

export interface AlertDeps {
  readonly store: FleetStore;
  readonly sns: SNSClient;
  readonly topicArn: string;
  readonly now: () => number;
  readonly dedupMs: number;
}

/**
 * Publishes unless an identical alert went out within the window; returns whether it did. The
 * dedup mark is written first (conditional: exactly one of two racing finishers publishes) and
 * taken back when the publish fails, so a retry can still publish.
 */
export async function publishAlert(deps: AlertDeps, alert: HeartbeatAlert, calls: FleetCalls, fingerprint = alertFingerprint(alert)): Promise<boolean> {
  const fresh = await deps.store.putNew(
    { pk: `alert#${alert.kind}`, sk: fingerprint, poll_id: alert.poll_id, expires_at: Math.floor((deps.now() + deps.dedupMs) / 1000) },
    calls,
  );
  if (!fresh) return false;
  try {
    await deps.sns.send(
      new PublishCommand({
        TopicArn: deps.topicArn,
        Subject: alertSubject(alert),
        Message: JSON.stringify(alert),
        MessageAttributes: { kind: { DataType: "String", StringValue: alert.kind }, source: { DataType: "String", StringValue: alert.source } },
      }),
    );
    return true;
  } catch (error) {
    await deps.store.deleteItem(`alert#${alert.kind}`, fingerprint, calls).catch(() => undefined);
    throw error;
  }
}
