/**
 * What a command's alert says: one per command that ends PARTIAL, FAILED or ABORTED. The shape
 * and the sending are the one alert's (lib/core/alerts.ts); types come from the alert catalogue
 * (lib/core/alert-catalog.ts), so a type not in it does not compile.
 */
import type { AlertType } from "../core/alert-catalog.ts";
import type { Alert } from "../core/alerts.ts";
import type { CommandItem } from "./store.ts";
import type { AgentResult, OutcomeCounts } from "./schemas.ts";

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

/** A command's alert: the one alert with the command's id, end status, targets, final counts and failing agents. */
export type CommandAlert = Alert & {
  readonly type: (typeof COMMAND_END_ALERTS)[AlertedStatus];
  readonly source: "gse-control/commands";
  readonly message_id: string;
  readonly status: AlertedStatus;
  readonly reason?: string;
  readonly targets: number;
  readonly counts: OutcomeCounts;
  readonly sample: readonly AlertSampleAgent[];
  /** Errors counted against max_errors (failed deliveries, timeouts, failing replies), and the limit. */
  readonly errors?: number;
  readonly max_errors?: number | null;
  /** The failing agents as docs/rollouts.md §1 names them: up to 20 {bk_agent_id, outcome, code, message}. */
  readonly failing_sample?: readonly Pick<AlertSampleAgent, "bk_agent_id" | "outcome" | "code" | "message">[];
};

/**
 * The alert of a command that ended badly, from its final counts (the ones the command shows
 * afterwards) and a sample of its failing agents.
 */
export function commandEndAlert(
  command: CommandItem & { status: AlertedStatus },
  counts: OutcomeCounts,
  sample: readonly AlertSampleAgent[],
  at: number,
): CommandAlert {
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
    errors: command.errors,
    max_errors: command.max_errors,
    failing_sample: sample.slice(0, ALERT_SAMPLE_SIZE).map(({ bk_agent_id, outcome, code, message }) => ({
      bk_agent_id,
      outcome,
      ...(code !== undefined ? { code } : {}),
      ...(message !== undefined ? { message } : {}),
    })),
    at: new Date(at).toISOString(),
    source: "gse-control/commands",
  };
}
