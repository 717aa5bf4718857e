import { describe, expect, it } from "vitest";
import { isAlertType } from "../../../lib/core/alert-catalog.ts";
import { ALERT_SAMPLE_SIZE, COMMAND_END_ALERTS, commandEndAlert, isAlertedStatus, type AlertSampleAgent } from "../../../lib/commands/alerts.ts";
import { zeroCounts } from "../../../lib/commands/engine.ts";
import { commandItem } from "../../helpers/events.ts";

const command = { ...commandItem(), status: "ABORTED" as const };

const failed = (n: number): AlertSampleAgent => ({ bk_agent_id: `0:10.0.0.${n}`, outcome: "FAILED", attempts: 2, code: 1, message: "agent not connected" });

describe("the alert of a command that ended badly", () => {
  it("says what the final counts say and names the failed agents with GSE's code and message", () => {
    const counts = { ...zeroCounts(), SENT: 24, FAILED: 6, SKIPPED: 270 };
    const sample = [1, 2, 3, 4, 5, 6].map(failed);
    const alert = commandEndAlert(command, counts, sample, Date.UTC(2026, 10, 25));
    expect(alert).toMatchObject({
      type: "command.aborted",
      severity: "warning",
      object: "command#reload.42",
      summary: "command reload.42 ended ABORTED: 6 failed, 0 timed out, 270 not sent of 300",
      message_id: "reload.42",
      status: "ABORTED",
      reason: command.reason,
      targets: 300,
      counts,
      sample,
      at: "2026-11-25T00:00:00.000Z",
      source: "gse-control/commands",
    });
  });

  it("carries the errors counted against max_errors, the limit, and a failing sample of {bk_agent_id, outcome, code, message}", () => {
    const timedOut: AlertSampleAgent = { bk_agent_id: "0:10.0.0.9", outcome: "TIMED_OUT", attempts: 1 };
    const alert = commandEndAlert({ ...command, errors: 7, max_errors: 5 }, { ...zeroCounts(), FAILED: 6, TIMED_OUT: 1 }, [failed(1), timedOut], 0);
    expect(alert).toMatchObject({ errors: 7, max_errors: 5 });
    expect(alert.failing_sample).toEqual([
      { bk_agent_id: "0:10.0.0.1", outcome: "FAILED", code: 1, message: "agent not connected" },
      { bk_agent_id: "0:10.0.0.9", outcome: "TIMED_OUT" },
    ]);
  });

  it("tells agents still in flight when the command stopped apart from those never sent", () => {
    const counts = { ...zeroCounts(), SENT: 14, FAILED: 6, PENDING: 10, SKIPPED: 270 };
    expect(commandEndAlert(command, counts, [], 0).summary).toBe(
      "command reload.42 ended ABORTED: 6 failed, 0 timed out, 270 not sent of 300; 10 still in flight when it stopped",
    );
  });

  it("is critical for a command that reached no agent, and names at most ALERT_SAMPLE_SIZE agents", () => {
    const sample = Array.from({ length: 30 }, (_, i) => failed(i));
    const alert = commandEndAlert({ ...command, status: "FAILED" }, { ...zeroCounts(), FAILED: 300 }, sample, 0);
    expect(alert).toMatchObject({ type: "command.failed", severity: "critical" });
    expect(alert.sample).toHaveLength(ALERT_SAMPLE_SIZE);
  });

  it("takes its types from the alert catalogue; CANCELLED and SUCCEEDED raise none", () => {
    for (const type of Object.values(COMMAND_END_ALERTS)) expect(isAlertType(type)).toBe(true);
    expect(isAlertedStatus("PARTIAL")).toBe(true);
    expect(isAlertedStatus("CANCELLED")).toBe(false);
    expect(isAlertedStatus("SUCCEEDED")).toBe(false);
  });
});
