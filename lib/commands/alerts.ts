/**
 * Alerts about commands on the alerts topic: one per command that ends PARTIAL, FAILED or ABORTED,
 * and one per automation job set aside in the dead-letter queue. Secrets are masked as in the logs.
 */
import { PublishCommand, type SNSClient } from "@aws-sdk/client-sns";
import { redactingReplacer } from "../logger.ts";

export interface CommandAlert {
  /** `command.partial`, `command.failed`, `command.aborted`, `automation.dead_letter`. */
  readonly type: string;
  readonly severity: "warning" | "critical";
  readonly object: string;
  readonly summary: string;
  readonly at: string;
  readonly [detail: string]: unknown;
}

export interface CommandAlertPublisher {
  publish(alert: CommandAlert): Promise<void>;
}

export function snsCommandAlerts(sns: SNSClient, topicArn: string): CommandAlertPublisher {
  return {
    async publish(alert) {
      await sns.send(
        new PublishCommand({
          TopicArn: topicArn,
          // SNS subjects stop at 100 characters.
          Subject: `[${alert.severity}] gse-control ${alert.type} ${alert.object}`.slice(0, 100),
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
