/**
 * One alert schema and one publisher for every alert the product raises: each feature's builder
 * (config, command, heartbeat, APM, dead letter) makes alerts that fit the one schema with a
 * severity the catalogue allows, and the publisher puts `type` and `severity` on every message as
 * SNS attributes. AWS SNS itself cannot run here: the publisher gets a fake SNS client that keeps
 * what it was asked to send; the integration tests publish through the local SNS emulator.
 */
import type { PublishCommand, PublishCommandInput, PublishCommandOutput } from "@aws-sdk/client-sns";
import { describe, expect, it } from "vitest";
import { datasourceApplyAlert } from "../../../lib/apm/alerts.ts";
import { deadLetterAlert } from "../../../lib/automation/alerts.ts";
import { commandEndAlert } from "../../../lib/commands/alerts.ts";
import { zeroCounts } from "../../../lib/commands/engine.ts";
import { driftAlert } from "../../../lib/config-versions/alerts.ts";
import { alertOf } from "../../../lib/config-versions/undo.ts";
import { ALERT_CATALOG, ALERT_TYPES, type AlertType } from "../../../lib/core/alert-catalog.ts";
import { alertSchema, createAlertPublisher, type Alert, type SnsPublish } from "../../../lib/core/alerts.ts";
import { registerSecrets } from "../../../lib/core/logger.ts";
import { desiredApplyAlert } from "../../../lib/desired/alerts.ts";
import { desiredDriftAlert } from "../../../lib/desired/drift.ts";
import { ALERT_KINDS, heartbeatAlert } from "../../../lib/heartbeat/alerts.ts";
import { rolloutAbortAlert } from "../../../lib/rollouts/alerts.ts";
import { captureMetrics } from "../../helpers/emf.ts";
import { applyItem } from "../../helpers/desired-items.ts";
import { commandItem } from "../../helpers/events.ts";

const AT = Date.UTC(2026, 10, 25, 12, 0, 0);
const TOPIC = "arn:aws:sns:ap-southeast-1:000000000000:alerts";

const configAlerts = (): Alert[] => {
  const change = { operation: "update_route", author: "alice", error: { message: "read-back differs", kind: "verify" } };
  return [
    alertOf(
      { ...change, status: "ROLLED_BACK", rollback_writes: 1 },
      { object: "route#1500123", versions: { failed: 4, restored: 3 }, adopted: undefined, at: AT },
    ),
    alertOf(
      { ...change, status: "ROLLED_BACK", adopted_version: 5 },
      { object: "route#1500123", versions: { failed: 4, restored: 3 }, adopted: undefined, at: AT },
    ),
    alertOf(
      { ...change, status: "ROLLBACK_FAILED", rollback_error: { message: "GSE refused the undo" } },
      { object: "route#1500123", versions: { failed: 4 }, adopted: undefined, at: AT },
    ),
    driftAlert({ object: "route#1500123", version: 3, changes: [] }, false, AT),
  ];
};

const commandAlerts = (): Alert[] => {
  const sample = [{ bk_agent_id: "0:10.0.0.1", outcome: "FAILED" as const, attempts: 2, code: 1, message: "agent not connected" }];
  return (["PARTIAL", "FAILED", "ABORTED"] as const).map((status) =>
    commandEndAlert({ ...commandItem(), status }, { ...zeroCounts(), SENT: 290, FAILED: 10 }, sample, AT),
  );
};

const heartbeatAlerts = (): Alert[] =>
  ALERT_KINDS.map((kind) =>
    heartbeatAlert(kind, {
      source: "gse-control/heartbeat",
      poll_id: "2026-11-25T12:00:00.000Z",
      at: new Date(AT).toISOString(),
      count: 1,
      sample: [{ agent_id: "0:10.0.0.1", status: "lost", last_seen: null, status_code: 3, status_class: "degraded", record: { status_code: 3 } }],
      truncated: false,
    }),
  );

const apmAlerts = (): Alert[] => {
  const failed = {
    app: { bk_biz_id: 2, app_name: "shop" },
    datasource: "trace" as const,
    action: "start" as const,
    step: "command" as const,
    error: { message: "probes failed" },
    summary: "start trace of 2/shop failed at the command step",
    at: AT,
  };
  return [datasourceApplyAlert(failed), datasourceApplyAlert({ ...failed, rollbackError: { message: "route rollback refused" } })];
};

const deadLetterAlerts = (): Alert[] => [deadLetterAlert({ messageId: "sqs-1", body: '{"type":"no_such_job"}' }, 'unknown job type "no_such_job"', AT)];

const rolloutAlerts = (): Alert[] => [
  rolloutAbortAlert(
    { rollout_id: "upgrade-1", target_count: 100, current_wave: 2, errors: 0, max_errors: 5 },
    "health",
    { gate: "health", touched: 30, unhealthy: 4, threshold: 3 },
    "4 of 30 touched agents unhealthy, more than 3",
    [{ bk_agent_id: "0:10.0.0.1", why: "lost" }],
    "upgrade-1.undo",
    AT,
  ),
];

const desiredAlerts = (): Alert[] => [
  desiredApplyAlert(applyItem(), AT),
  desiredApplyAlert(applyItem({ status: "ROLLBACK_FAILED" }), AT),
  desiredDriftAlert({
    plat_name: "bkmonitor",
    plan_id: "plan-0001",
    apply_id: "apply-0001",
    counts: { create: 0, update: 1, delete: 0 },
    changes: [{ kind: "route", name: "1500123", action: "update" }],
    at: AT,
  }),
];

const RAISED: Readonly<Record<string, () => Alert[]>> = {
  config: configAlerts,
  command: commandAlerts,
  heartbeat: heartbeatAlerts,
  apm: apmAlerts,
  dead_letter: deadLetterAlerts,
  rollout: rolloutAlerts,
  desired: desiredAlerts,
};
const everyAlert = (): Alert[] => Object.values(RAISED).flatMap((raise) => raise());

function example(type: AlertType): Alert {
  const found = everyAlert().find((a) => a.type === type);
  if (!found) throw new Error(`no example of ${type}`);
  return found;
}

/** What SNS was asked to send: SNS itself cannot run in a unit test. */
function fakeSns(): SnsPublish & { readonly sent: PublishCommandInput[] } {
  const sent: PublishCommandInput[] = [];
  return {
    sent,
    async send(command: PublishCommand): Promise<PublishCommandOutput> {
      sent.push(command.input);
      return { MessageId: `sns-${sent.length}`, $metadata: {} };
    },
  };
}

describe("the one alert schema", () => {
  it.each(Object.entries(RAISED))("fits every %s alert the product raises, with a severity the catalogue allows for its type", (_feature, raise) => {
    for (const alert of raise()) {
      expect(alertSchema.safeParse(alert).error).toBeUndefined();
      expect(ALERT_CATALOG[alert.type].severities as readonly string[]).toContain(alert.severity);
      expect(alert).toMatchObject({
        object: expect.any(String),
        summary: expect.any(String),
        at: new Date(AT).toISOString(),
        source: expect.stringMatching(/^gse-control\//),
      });
    }
  });

  it("is met by an example of every type in the catalogue", () => {
    expect([...new Set(everyAlert().map((a) => a.type))].sort()).toEqual([...ALERT_TYPES].sort());
  });

  it("refuses a severity the catalogue does not give the type, and an alert without what it is about", () => {
    expect(alertSchema.safeParse({ ...example("heartbeat.recovered"), severity: "critical" }).success).toBe(false);
    const drift = example("config.drift");
    const { object: _object, ...noObject } = drift;
    expect(alertSchema.safeParse(noObject).success).toBe(false);
    expect(alertSchema.safeParse({ ...drift, type: "config.news" }).success).toBe(false);
    expect(alertSchema.safeParse({ ...drift, at: "yesterday" }).success).toBe(false);
  });
});

describe("the one alert publisher", () => {
  it("sends every alert with `type` and `severity` (and what it is about, and who raised it) as String message attributes", async () => {
    const sns = fakeSns();
    const publisher = createAlertPublisher({ sns, topicArn: TOPIC });
    const alerts = everyAlert();
    for (const alert of alerts) await publisher.publish(alert);
    expect(sns.sent).toHaveLength(alerts.length);
    for (const [i, alert] of alerts.entries()) {
      const input = sns.sent[i];
      expect(input?.TopicArn).toBe(TOPIC);
      expect(input?.MessageAttributes).toEqual({
        type: { DataType: "String", StringValue: alert.type },
        severity: { DataType: "String", StringValue: alert.severity },
        object: { DataType: "String", StringValue: alert.object },
        source: { DataType: "String", StringValue: alert.source },
      });
      expect(JSON.parse(input?.Message ?? "")).toEqual(alert);
      expect(input?.Subject).toBe(`[${alert.severity}] gse-control ${alert.type} ${alert.object}`.slice(0, 100));
    }
  });

  it("takes a feature's own subject and extra attributes, never in place of type and severity", async () => {
    const sns = fakeSns();
    const publisher = createAlertPublisher({ sns, topicArn: TOPIC });
    await publisher.publish(example("heartbeat.lost"), { subject: `gse-control: ${"x".repeat(200)}`, attributes: { kind: "lost", severity: "info" } });
    expect(sns.sent[0]?.Subject).toHaveLength(100);
    expect(sns.sent[0]?.MessageAttributes).toMatchObject({
      kind: { DataType: "String", StringValue: "lost" },
      severity: { DataType: "String", StringValue: "warning" },
    });
  });

  it("refuses an alert that does not fit the schema, and sends nothing", async () => {
    const sns = fakeSns();
    const publisher = createAlertPublisher({ sns, topicArn: TOPIC });
    await expect(publisher.publish({ ...example("config.drift"), severity: "info" })).rejects.toThrow(/does not fit the alert schema/);
    expect(sns.sent).toEqual([]);
  });

  it("masks credentials an alert quotes, as the logs do", async () => {
    registerSecrets(["alerts-test-secret-93"]);
    const sns = fakeSns();
    const publisher = createAlertPublisher({ sns, topicArn: TOPIC });
    await publisher.publish({ ...example("config.drift"), summary: "token alerts-test-secret-93 differs", details: { token: "abc" } });
    expect(sns.sent[0]?.Message).not.toContain("alerts-test-secret-93");
    expect(JSON.parse(sns.sent[0]?.Message ?? "")).toMatchObject({ details: { token: "[REDACTED]" } });
  });

  it("logs SNS's message id with the alert, so an alert log entry and its alert can be found from each other", async () => {
    const lines: unknown[] = [];
    const logger = { info: (...args: unknown[]) => void lines.push(args) };
    await createAlertPublisher({ sns: fakeSns(), topicArn: TOPIC, logger }).publish(example("automation.dead_letter"));
    expect(lines).toEqual([["alert published", { type: "automation.dead_letter", severity: "warning", object: "sqs#sqs-1", sns_message_id: "sns-1" }]]);
  });

  it("counts each alert SNS took under its type, and none that SNS refused", async () => {
    const { metrics, values } = captureMetrics();
    await createAlertPublisher({ sns: fakeSns(), topicArn: TOPIC, metrics }).publish(example("automation.dead_letter"));
    await createAlertPublisher({ sns: fakeSns(), topicArn: TOPIC, metrics }).publish(example("heartbeat.lost"));
    const refusing: SnsPublish = { send: async () => Promise.reject(new Error("SNS down")) };
    await expect(createAlertPublisher({ sns: refusing, topicArn: TOPIC, metrics }).publish(example("heartbeat.lost"))).rejects.toThrow("SNS down");
    expect(values("AlertsPublished", { type: "automation.dead_letter" })).toEqual([1]);
    expect(values("AlertsPublished", { type: "heartbeat.lost" })).toEqual([1]);
  });
});
