/**
 * Alerts about commands on the alerts topic: one per command that ends PARTIAL, FAILED or ABORTED,
 * and one per automation job set aside in the dead-letter queue. Secrets are masked as in the logs.
 * Types come from the alert catalogue (lib/core/alert-catalog.ts): a type not in it does not compile.
 */
import { PublishCommand, type SNSClient } from "@aws-sdk/client-sns";
import type { AlertType } from "../core/alert-catalog.ts";
import { redactingReplacer } from "../core/logger.ts";
import type { CommandItem } from "./store.ts";
import type { AgentResult, OutcomeCounts } from "./schemas.ts";

export interface CommandAlert {
  /** `command.partial`, `command.failed`, `command.aborted`, `automation.dead_letter` (and `apm.datasource_apply`, which shares this publisher). */
  readonly type: AlertType;
  readonly severity: "warning" | "critical";
  readonly object: string;
  readonly summary: string;
  readonly at: string;
  readonly [detail: string]: unknown;
}

export interface CommandAlertPublisher {
  publish(alert: CommandAlert): Promise<void>;
}

/** The statuses that raise an alert when a command ends in them, and the alert each raises. */
export const COMMAND_END_ALERTS = {
  PARTIAL: "command.partial",
  FAILED: "command.failed",
  ABORTED: "command.aborted",
} as const satisfies Partial<Record<CommandItem["status"], AlertType>>;

export type AlertedStatus = keyof typeof COMMAND_END_ALERTS;

export const isAlertedStatus = (status: CommandItem["status"]): status is AlertedStatus => Object.hasOwn(COMMAND_END_ALERTS, status);

/** At most this many failing agents are named in an alert. */
export const ALERT_SAMPLE_SIZE = 20;

/** A failing agent as an alert names it: its final outcome (FAILED or TIMED_OUT), attempts and GSE's code and message. */
export type AlertSampleAgent = Pick<AgentResult, "bk_agent_id" | "outcome" | "attempts" | "code" | "message">;

/**
 * The alert of a command that ended badly, from its final counts (the ones the command shows
 * afterwards) and a sample of its failing agents.
 */
export function commandEndAlert(command: CommandItem & { status: AlertedStatus }, counts: OutcomeCounts, sample: readonly AlertSampleAgent[], at: number): CommandAlert {
  const inFlight = counts.PENDING > 0 ? `; ${counts.PENDING} still in flight when it stopped` : "";
  return {
    type: COMMAND_END_ALERTS[command.status],
    severity: command.status === "FAILED" ? "critical" : "warning",
    object: `command#${command.message_id}`,
    summary:
      `command ${command.message_id} ended ${command.status}: ${counts.FAILED} failed, ${counts.TIMED_OUT} timed out, ` +
      `${counts.SKIPPED} not sent of ${command.target_count}${inFlight}`,
    message_id: command.message_id,
    status: command.status,
    ...(command.reason !== undefined ? { reason: command.reason } : {}),
    targets: command.target_count,
    counts,
    sample: sample.slice(0, ALERT_SAMPLE_SIZE),
    at: new Date(at).toISOString(),
  };
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
