import { describe, expect, it } from "vitest";
import { alertEntryFromRecord, logAlert, MAX_ALERT_MESSAGE_CHARS } from "../../../lib/console/alert-log.ts";
import { registerSecrets } from "../../../lib/core/logger.ts";
import type { AlertLogEntry } from "../../../lib/fleet/log-items.ts";
import { commandEndAlert } from "../../../lib/commands/alerts.ts";
import { zeroCounts } from "../../../lib/commands/engine.ts";
import { heartbeatAlert } from "../../../lib/heartbeat/alerts.ts";
import { commandItem, sqsRecord } from "../../helpers/events.ts";

const NOW = Date.UTC(2026, 10, 25, 12, 0, 0);
const PUBLISHED = "2026-11-25T11:59:58.123Z";

/** A message as SNS delivers it to a subscribed queue (raw delivery off). */
const fromSns = (message: unknown, subject: string | null, messageId = "sns-1"): string =>
  JSON.stringify({
    Type: "Notification",
    MessageId: messageId,
    TopicArn: "arn:aws:sns:ap-southeast-1:000000000000:alerts",
    Subject: subject,
    Message: typeof message === "string" ? message : JSON.stringify(message),
    Timestamp: PUBLISHED,
  });

describe("alertEntryFromRecord", () => {
  it("logs an alert of the one shape by its type, severity, summary, object and source; a heartbeat one keeps the kind the page shows", () => {
    const lost = heartbeatAlert("lost", {
      source: "gse-control/heartbeat",
      poll_id: "p",
      at: "2026-11-25T11:59:00.000Z",
      count: 7,
      sample: ["0:10.0.0.1", "0:10.0.0.2"].map((agent_id) => ({
        agent_id,
        status: "lost",
        last_seen: null,
        status_code: 3,
        status_class: "degraded" as const,
        record: null,
      })),
      truncated: true,
    });
    expect(alertEntryFromRecord(sqsRecord(fromSns(lost, "gse-control: 7 agents lost")), NOW)).toEqual({
      at: Date.parse(PUBLISHED),
      message_id: "sns-1",
      kind: "lost",
      severity: "warning",
      subject: "gse-control: 7 agents lost",
      message: "7 agents lost: 0:10.0.0.1, 0:10.0.0.2 and 5 more",
      object: "fleet",
      source: "gse-control/heartbeat",
    });
    const failed = commandEndAlert({ ...commandItem(), status: "FAILED" as const }, { ...zeroCounts(), FAILED: 300 }, [], NOW);
    expect(alertEntryFromRecord(sqsRecord(fromSns(failed, "[critical] gse-control command.failed command#reload.42")), NOW)).toMatchObject({
      kind: "command.failed",
      severity: "critical",
      message: failed.summary,
      object: "command#reload.42",
      source: "gse-control/commands",
    });
  });

  it("logs a heartbeat alert of before the one shape by kind with the agents it names, at its publish time, under SNS's message id", () => {
    const alert = {
      source: "gse-control/heartbeat",
      kind: "lost",
      poll_id: "p",
      at: "2026-11-25T11:59:00.000Z",
      count: 7,
      sample: ["0:10.0.0.1", "0:10.0.0.2", "0:10.0.0.3", "0:10.0.0.4", "0:10.0.0.5", "0:10.0.0.6"].map((agent_id) => ({
        agent_id,
        status: "lost",
        last_seen: null,
        record: null,
      })),
      truncated: true,
    };
    const entry = alertEntryFromRecord(sqsRecord(fromSns(alert, "gse-control: 7 agents lost")), NOW);
    expect(entry).toEqual({
      at: Date.parse(PUBLISHED),
      message_id: "sns-1",
      kind: "lost",
      severity: "warning",
      subject: "gse-control: 7 agents lost",
      message: "7 agents lost: 0:10.0.0.1, 0:10.0.0.2, 0:10.0.0.3, 0:10.0.0.4, 0:10.0.0.5 and 2 more",
      source: "gse-control/heartbeat",
    });
  });

  it("calls GSE unreachable critical and says why", () => {
    const alert = {
      source: "gse-control/heartbeat",
      kind: "gse_unreachable",
      poll_id: "p",
      at: PUBLISHED,
      count: 3,
      sample: [],
      truncated: false,
      detail: "3 of 3 GSE calls failed (HTTP 502)",
    };
    expect(alertEntryFromRecord(sqsRecord(fromSns(alert, "gse-control: GSE unreachable: agent state not polled")), NOW)).toMatchObject({
      kind: "gse_unreachable",
      severity: "critical",
      message: "3 of 3 GSE calls failed (HTTP 502)",
    });
  });

  it("logs a heartbeat alert at the severity it carries: a stuck agent is a warning, an all-clear is news", () => {
    const stuck = {
      source: "gse-control/heartbeat",
      type: "heartbeat.stuck",
      severity: "warning",
      kind: "stuck",
      poll_id: "p",
      at: PUBLISHED,
      count: 1,
      sample: [{ agent_id: "0:10.0.0.9" }],
      truncated: false,
      detail: "5 upgrading ×1",
    };
    expect(alertEntryFromRecord(sqsRecord(fromSns(stuck, "gse-control: 1 agent stuck")), NOW)).toMatchObject({
      kind: "stuck",
      severity: "warning",
      message: "5 upgrading ×1",
    });
    const clear = {
      source: "gse-control/heartbeat",
      type: "heartbeat.recovered",
      severity: "info",
      kind: "recovered",
      poll_id: "p",
      at: PUBLISHED,
      count: 1,
      sample: [{ agent_id: "0:10.0.0.9" }],
      truncated: false,
    };
    expect(alertEntryFromRecord(sqsRecord(fromSns(clear, "gse-control: 1 agent recovered")), NOW)).toMatchObject({ kind: "recovered", severity: "info" });
  });

  it("logs config and command alerts of before the one shape by type, severity, object and summary", () => {
    const config = {
      type: "config.rollback_failed",
      severity: "critical",
      object: "route#1500123",
      summary: "rollback of route#1500123 v4 failed",
      at: PUBLISHED,
    };
    expect(alertEntryFromRecord(sqsRecord(fromSns(config, "[critical] gse-control config.rollback_failed route#1500123")), NOW)).toMatchObject({
      kind: "config.rollback_failed",
      severity: "critical",
      object: "route#1500123",
      message: "rollback of route#1500123 v4 failed",
    });
    const command = { type: "command.partial", severity: "warning", object: "reload.42", summary: "3 of 10 agents failed", at: PUBLISHED };
    expect(alertEntryFromRecord(sqsRecord(fromSns(command, "[warning] gse-control command.partial reload.42")), NOW)).toMatchObject({
      kind: "command.partial",
      severity: "warning",
      object: "reload.42",
    });
  });

  it("logs a CloudWatch alarm (they publish to the same topic): ALARM is critical, OK is news", () => {
    const alarm = { AlarmName: "RecoveryErrors", NewStateValue: "ALARM", NewStateReason: "Threshold Crossed: 1 datapoint [2.0] was greater than 0.0" };
    expect(alertEntryFromRecord(sqsRecord(fromSns(alarm, 'ALARM: "RecoveryErrors"')), NOW)).toMatchObject({
      kind: "alarm.alarm",
      severity: "critical",
      object: "RecoveryErrors",
      message: "Threshold Crossed: 1 datapoint [2.0] was greater than 0.0",
    });
    expect(alertEntryFromRecord(sqsRecord(fromSns({ ...alarm, NewStateValue: "OK" }, null)), NOW)).toMatchObject({
      kind: "alarm.ok",
      severity: "info",
      subject: "",
    });
  });

  it("keeps anything else as text on one line, cut to the length the page shows", () => {
    const entry = alertEntryFromRecord(sqsRecord(fromSns(`disk\nfull ${"x".repeat(2000)}`, "hand-written")), NOW);
    expect(entry).toMatchObject({ kind: "message", severity: "info", subject: "hand-written" });
    expect(entry.message.startsWith("disk full x")).toBe(true);
    expect(entry.message).toHaveLength(MAX_ALERT_MESSAGE_CHARS);
  });

  it("logs a message sent to the queue without SNS's envelope under the SQS id and send time", () => {
    const record = sqsRecord(JSON.stringify({ type: "command.failed", severity: "critical", object: "x", summary: "all failed" }), "sqs-9");
    const entry = alertEntryFromRecord({ ...record, attributes: { ...record.attributes, SentTimestamp: String(NOW - 5000) } }, NOW);
    expect(entry).toMatchObject({ at: NOW - 5000, message_id: "sqs-9", kind: "command.failed", severity: "critical", subject: "" });
    expect(alertEntryFromRecord(sqsRecord("not json"), NOW)).toMatchObject({ at: NOW, kind: "message", message: "not json" });
  });

  it("masks a configured secret an alert quotes", () => {
    registerSecrets(["alert-secret-value-77"]);
    const entry = alertEntryFromRecord(
      sqsRecord(fromSns({ type: "config.drift", summary: "token alert-secret-value-77 differs" }, "drift alert-secret-value-77")),
      NOW,
    );
    expect(JSON.stringify(entry)).not.toContain("alert-secret-value-77");
  });
});

describe("logAlert", () => {
  it("writes the entry, and lets a failed write throw so the record is retried", async () => {
    const written: AlertLogEntry[] = [];
    const entry = await logAlert({ log: { putAlert: async (e) => void written.push(e) }, now: () => NOW }, sqsRecord(fromSns("hello", "s", "sns-2")));
    expect(written).toEqual([entry]);
    await expect(logAlert({ log: { putAlert: async () => Promise.reject(new Error("throttled")) }, now: () => NOW }, sqsRecord("x"))).rejects.toThrow(
      "throttled",
    );
  });
});
