/**
 * The one shape of every alert gse-control publishes on the alerts topic, and the one publisher.
 *
 * Every alert carries the same core: `type` (from the catalogue, lib/core/alert-catalog.ts) with a
 * `severity` the catalogue allows for it, the `object` it is about, a one-line `summary`, when it
 * happened (`at`), which part of gse-control raised it (`source`), and, where it has them, `counts`
 * and a bounded `sample`. A feature adds its own fields beside these (a command's `message_id`, a
 * config alert's `failed_version`, the heartbeat's `kind` and `count`): subscribers that read them
 * today keep finding them where they were. What each feature says is built in its own folder
 * (commands/alerts.ts, config-versions/alerts.ts, heartbeat/alerts.ts, apm/alerts.ts,
 * automation/alerts.ts); only the shape and the sending are shared, here.
 *
 * Every message has the SNS attributes `type`, `severity`, `object` and `source`, so a
 * subscription's filter policy on severity sees every alert, whoever raised it.
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import { PublishCommand, type PublishCommandOutput } from "@aws-sdk/client-sns";
import { z } from "zod";
import { ALERT_CATALOG, ALERT_SEVERITIES, ALERT_TYPES, type AlertSeverity } from "./alert-catalog.ts";
import { InternalError } from "./errors.ts";
import { redactingReplacer } from "./logger.ts";

/** The parts of gse-control that raise alerts: `gse-control/<its folder under lib/>`. */
export const ALERT_SOURCES = [
  "gse-control/config-versions",
  "gse-control/commands",
  "gse-control/heartbeat",
  "gse-control/apm",
  "gse-control/automation",
] as const;
export type AlertSource = (typeof ALERT_SOURCES)[number];

/** A sample names at most this many items (HEARTBEAT_ALERT_SAMPLE's ceiling): a person reads it, the rest is in the history. */
export const MAX_ALERT_SAMPLE = 200;

/** The core every alert has; a feature's own schema extends it (heartbeat/alerts.ts). */
export const alertFields = {
  type: z.enum(ALERT_TYPES),
  severity: z.enum(ALERT_SEVERITIES),
  /** What it is about: `route#1500123`, `command#reload.42`, `apm#2#shop#trace`, `fleet`, `gse`, `sqs#<id>`. */
  object: z.string().min(1),
  /** One line a person can act on; the status page's alert log shows it. */
  summary: z.string().min(1),
  /** How many of what, when the alert is about many (a command's outcomes). */
  counts: z.record(z.string(), z.int().nonnegative()).optional(),
  /** A bounded sample of what it is about (failing agents, lost agents). */
  sample: z.array(z.record(z.string(), z.unknown())).max(MAX_ALERT_SAMPLE).optional(),
  /** When the event happened (ISO 8601, UTC), by the raiser's clock. */
  at: z.iso.datetime(),
  source: z.enum(ALERT_SOURCES),
};

/** The one alert schema: the core, a severity the catalogue allows for the type, and the feature's own fields as they are. */
export const alertSchema = z.looseObject(alertFields).superRefine(function severityAllowedForType(alert, ctx) {
  const allowed: readonly AlertSeverity[] = ALERT_CATALOG[alert.type].severities;
  if (!allowed.includes(alert.severity)) {
    ctx.addIssue({ code: "custom", path: ["severity"], message: `${alert.type} is sent as ${allowed.join(" or ")}, not ${alert.severity}` });
  }
});
export type Alert = z.infer<typeof alertSchema>;

export interface AlertPublishOptions {
  /** The e-mail subject, where the feature words it better than type and object (the heartbeat's counts). */
  readonly subject?: string;
  /** Message attributes besides the four every alert has, that subscribers already filter on. */
  readonly attributes?: Readonly<Record<string, string>>;
}

/** Sends alerts; `A` narrows what a feature's deps accept, so a test's fake can keep the feature's type. */
export interface AlertPublisher<A extends Alert = Alert> {
  publish(alert: A, options?: AlertPublishOptions): Promise<void>;
}

/** The one SNS call the publisher makes: an SNSClient, or a test's fake. */
export interface SnsPublish {
  send(command: PublishCommand): Promise<PublishCommandOutput>;
}

export interface AlertPublisherOptions {
  readonly sns: SnsPublish;
  readonly topicArn: string;
  readonly logger?: Pick<Logger, "info">;
}

/** SNS subjects stop at 100 characters. */
const SUBJECT_MAX = 100;

export const defaultAlertSubject = (alert: Pick<Alert, "severity" | "type" | "object">): string =>
  `[${alert.severity}] gse-control ${alert.type} ${alert.object}`;

/** The attributes every alert has (a feature's own cannot replace them), as SNS wants them. */
function messageAttributes(alert: Alert, extra: Readonly<Record<string, string>> = {}): Record<string, { DataType: "String"; StringValue: string }> {
  const values = { ...extra, type: alert.type, severity: alert.severity, object: alert.object, source: alert.source };
  return Object.fromEntries(Object.entries(values).map(([name, value]) => [name, { DataType: "String", StringValue: value }]));
}

/**
 * Checks an alert against the one schema before it leaves: a builder that drifts from it fails
 * loudly where it publishes instead of reaching subscribers in a shape they cannot read.
 */
export function checkAlert(alert: Alert): void {
  const checked = alertSchema.safeParse(alert);
  if (!checked.success) {
    throw new InternalError(`the ${String(alert.type)} alert does not fit the alert schema: ${z.prettifyError(checked.error)}`, { cause: checked.error });
  }
}

/**
 * The alerts topic's publisher. The message is the alert as JSON, with credentials masked as in
 * the logs (error texts can quote them); the builder's field order is kept.
 */
export function createAlertPublisher(options: AlertPublisherOptions): AlertPublisher {
  const { sns, topicArn, logger } = options;
  return {
    async publish(alert, publishOptions = {}) {
      checkAlert(alert);
      const out = await sns.send(
        new PublishCommand({
          TopicArn: topicArn,
          Subject: (publishOptions.subject ?? defaultAlertSubject(alert)).slice(0, SUBJECT_MAX),
          Message: JSON.stringify(alert, redactingReplacer),
          MessageAttributes: messageAttributes(alert, publishOptions.attributes),
        }),
      );
      // SNS's id is the alert log's key for this alert: logged so one can be found from the other.
      logger?.info("alert published", { type: alert.type, severity: alert.severity, object: alert.object, sns_message_id: out.MessageId });
    },
  };
}
