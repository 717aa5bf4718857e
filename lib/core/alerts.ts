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
 * The shape is lib/core/alert-shape.ts (apart, so that a reader of alerts need not bundle SNS).
 * Every message has the SNS attributes `type`, `severity`, `object` and `source`, so a
 * subscription's filter policy on severity sees every alert, whoever raised it; an alert sent
 * through the outbox (lib/core/outbox.ts) also has `alert_id`, by which a subscriber drops the one
 * copy too many a crash can cause.
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import { PublishCommand, type PublishCommandOutput } from "@aws-sdk/client-sns";
import * as z from "zod";
import { alertSchema, type Alert } from "./alert-shape.ts";
import { InternalError } from "./errors.ts";
import { redactingReplacer } from "./logger.ts";
import type { MetricsRecorder } from "./metrics.ts";

export { ALERT_SOURCES, alertFields, alertSchema, MAX_ALERT_SAMPLE, type Alert, type AlertSource } from "./alert-shape.ts";

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
  /** AlertsPublished, by alert type, once SNS took the message. */
  readonly metrics?: MetricsRecorder;
}

/** SNS subjects stop at 100 characters. */
const SUBJECT_MAX = 100;

export const defaultAlertSubject = (alert: Pick<Alert, "severity" | "type" | "object">): string =>
  `[${alert.severity}] gse-control ${alert.type} ${alert.object}`;

/** The attributes every alert has (a feature's own cannot replace them), as SNS wants them. */
function messageAttributes(alert: Alert, extra: Readonly<Record<string, string>> = {}): Record<string, { DataType: "String"; StringValue: string }> {
  const values = {
    ...extra,
    type: alert.type,
    severity: alert.severity,
    object: alert.object,
    source: alert.source,
    ...(alert.alert_id !== undefined ? { alert_id: alert.alert_id } : {}),
  };
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
  const { sns, topicArn, logger, metrics } = options;
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
      metrics?.add("AlertsPublished", 1, { type: alert.type });
      // SNS's id is the alert log's key for this alert: logged so one can be found from the other.
      logger?.info("alert published", {
        type: alert.type,
        severity: alert.severity,
        object: alert.object,
        ...(alert.alert_id !== undefined ? { alert_id: alert.alert_id } : {}),
        sns_message_id: out.MessageId,
      });
    },
  };
}
