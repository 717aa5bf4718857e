/**
 * Alerts about configuration versions, on the alerts topic. One message per event; credentials in
 * documents or error texts are masked like in the logs.
 */
import { PublishCommand, type SNSClient } from "@aws-sdk/client-sns";
import type { AlertType } from "../core/alert-catalog.ts";
import { redactingReplacer } from "../core/logger.ts";
import type { StoredError } from "./store.ts";

/** The config alerts of the catalogue (lib/core/alert-catalog.ts): each says why it may be sent. */
export type ConfigAlertType = Extract<AlertType, `config.${string}`>;

export interface ConfigAlert {
  readonly type: ConfigAlertType;
  /** critical: a human must act (GSE's state is not known to be good). */
  readonly severity: "warning" | "critical";
  readonly object: string;
  readonly summary: string;
  readonly failed_version?: number;
  readonly restored_version?: number;
  /** config.adopted: the version recording what GSE held instead. */
  readonly adopted_version?: number;
  readonly operation?: string;
  readonly author?: string;
  readonly error?: StoredError;
  readonly rollback_error?: StoredError;
  readonly details?: unknown;
  readonly at: string;
}

export interface AlertPublisher {
  publish(alert: ConfigAlert): Promise<void>;
}

/** SNS subjects are at most 100 characters. */
const subject = (alert: ConfigAlert): string => `[${alert.severity}] gse-control ${alert.type} ${alert.object}`.slice(0, 100);

export function snsAlertPublisher(sns: SNSClient, topicArn: string): AlertPublisher {
  return {
    async publish(alert) {
      await sns.send(
        new PublishCommand({
          TopicArn: topicArn,
          Subject: subject(alert),
          Message: JSON.stringify(alert, redactingReplacer),
          MessageAttributes: {
            type: { DataType: "String", StringValue: alert.type },
            severity: { DataType: "String", StringValue: alert.severity },
            object: { DataType: "String", StringValue: alert.object },
          },
        }),
      );
    },
  };
}
