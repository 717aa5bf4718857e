/**
 * Drift as a plan against the stack's GSE simulator: a platform's last applied document planned
 * against what GSE holds; a change made outside gse-control is one stored plan (source `drift`) and
 * one `config.desired_drift` alert, reported once per GSE state. The objects are made in GSE
 * directly and the last applied document recorded, as an apply leaves them.
 */
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAlertPublisher } from "../../../lib/core/alerts.ts";
import { driftAsPlans, type DriftDeps } from "../../../lib/desired/drift.ts";
import { getPlan } from "../../../lib/desired/plans.ts";
import { desiredDocumentSchema } from "../../../lib/desired/schemas.ts";
import { DesiredStore } from "../../../lib/desired/store.ts";
import { directGse } from "../../helpers/configs.ts";
import { topicWithInbox } from "../../helpers/sns-inbox.ts";
import { uniqueBuiltInChannelId, useStack } from "../../helpers/stack.ts";

const { info, dynamo, sns, sqs } = useStack();
const run = randomUUID().slice(0, 8);
// A platform of this file's own: the drift check goes over every platform with a last applied document.
const PLAT = `drift${run}`;
let deps: DriftDeps;
let inbox: { take(): Promise<{ body: unknown }[]> };

beforeAll(async () => {
  const topic = await topicWithInbox(sns, sqs, `desired-drift-${run}`);
  inbox = topic;
  deps = {
    gse: directGse(info),
    store: new DesiredStore({ client: DynamoDBDocumentClient.from(dynamo), tableName: info.tables.configs }),
    alerts: createAlertPublisher({ sns, topicArn: topic.topicArn }),
    operator: "admin",
    now: () => Date.now(),
  };
});

afterAll(() => {
  sqs.destroy();
  sns.destroy();
  dynamo.destroy();
});

const ours = (messages: { body: unknown }[]) =>
  messages.map((m) => m.body as Record<string, unknown>).filter((b) => b.type === "config.desired_drift" && b.plat_name === PLAT);

describe("drift as a plan", () => {
  it("reports a route changed outside gse-control as one drift plan and one alert, once per GSE state, and nothing while in sync", async () => {
    const gse = directGse(info);
    const op = { operator_name: "admin" };
    const channel = uniqueBuiltInChannelId();
    const name = `kafka-drift-${run}`;
    const streamTo = { name, report_mode: "kafka" as const, kafka: { storage_address: [{ ip: "10.0.0.9", port: 9092 }], sasl_passwd: `secret-${run}` } };
    const { stream_to_id } = await gse.call("add_streamto", { metadata: { plat_name: PLAT }, operation: op, stream_to: streamTo });
    const route = (topic: string) => [{ name: `r-${channel}`, stream_to: { stream_to_id, kafka: { topic_name: topic } } }];
    await gse.call("add_route", { metadata: { plat_name: PLAT, channel_id: channel }, operation: op, route: route("t1") });
    const document = desiredDocumentSchema.parse({
      plat_name: PLAT,
      stream_tos: [streamTo],
      routes: [{ channel_id: channel, route: [{ name: `r-${channel}`, stream_to: { name, kafka: { topic_name: "t1" } } }] }],
    });
    await deps.store.putLastApplied({ plat_name: PLAT, apply_id: `apply-test-${run}`, plan_id: `plan-test-${run}`, document, applied_at: Date.now() });

    const inSync = await driftAsPlans(deps);
    expect(inSync.plans.filter((p) => p.plat_name === PLAT)).toEqual([]);
    expect(ours(await inbox.take())).toEqual([]);

    await gse.call("update_route", { condition: { channel_id: channel, plat_name: PLAT }, operation: op, specification: { route: route("t2") } });
    const drifted = await driftAsPlans(deps);
    const found = drifted.plans.filter((p) => p.plat_name === PLAT);
    expect(found).toHaveLength(1);
    const plan = await getPlan(deps.store, found[0]?.plan_id ?? "");
    expect(plan).toMatchObject({ source: "drift", summary: { create: 0, update: 1, delete: 0, unchanged: 1 } });
    expect(plan.changes.find((c) => c.action === "update")).toMatchObject({ kind: "route", name: String(channel) });
    const alerts = ours(await inbox.take());
    expect(alerts).toMatchObject([{ plan_id: plan.plan_id, changes: [{ kind: "route", name: String(channel), action: "update" }] }]);
    expect(JSON.stringify(alerts)).not.toContain(`secret-${run}`);

    // The same drift at the next pass: no new plan, no new alert.
    const again = await driftAsPlans(deps);
    expect(again.plans.filter((p) => p.plat_name === PLAT)).toEqual([]);
    expect(ours(await inbox.take())).toEqual([]);
  });
});
