/**
 * The alert outbox (lib/core/outbox.ts) against the shared stack's DynamoDB Local and SNS/SQS
 * emulator, on a table and a topic of this file's own, with the test's clock for the lease.
 */
import { CreateTableCommand } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createAlertPublisher, type Alert, type AlertPublisher } from "../../../lib/core/alerts.ts";
import { Outbox, OUTBOX_LEASE_MS, sweepOutbox } from "../../../lib/core/outbox.ts";
import { TABLES } from "../../../lib/resources.ts";
import { tableSpec } from "../../../local/dynamodb.ts";
import { topicWithInbox } from "../../helpers/sns-inbox.ts";
import { useStack } from "../../helpers/stack.ts";

const { dynamo, sns, sqs } = useStack();
const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);

async function setup(): Promise<{ outbox: Outbox; publisher: AlertPublisher; received: () => Promise<Record<string, unknown>[]> }> {
  const name = `outbox-${randomBytes(6).toString("hex")}`;
  await dynamo.send(new CreateTableCommand(tableSpec(TABLES.fleet, name)));
  const inbox = await topicWithInbox(sns, sqs, name);
  const outbox = new Outbox({ client: DynamoDBDocumentClient.from(dynamo), table: name });
  return {
    outbox,
    publisher: createAlertPublisher({ sns, topicArn: inbox.topicArn }),
    received: async () => (await inbox.take()).map((m) => m.body),
  };
}

const alert = (id: string): Alert & { alert_id: string } => ({
  type: "heartbeat.lost",
  severity: "warning",
  object: "fleet",
  summary: "1 agent lost",
  at: new Date(T0).toISOString(),
  source: "gse-control/heartbeat",
  alert_id: id,
});

/** What a writer does before it dies: the outbox item committed, nothing published. */
async function abandon(outbox: Outbox, id: string, now = T0): Promise<void> {
  await DynamoDBDocumentClient.from(dynamo).send(new TransactWriteCommand({ TransactItems: [outbox.put({ alert: alert(id) }, now)] }));
}

describe("alert outbox", () => {
  it("leaves an item to its writer for the lease, and publishes it once after", async () => {
    const { outbox, publisher, received } = await setup();
    await abandon(outbox, "a-1");
    expect(await sweepOutbox({ outboxes: [outbox], publisher, now: () => T0 + OUTBOX_LEASE_MS - 1 })).toEqual({ published: 0, failed: 0 });
    expect(await received()).toEqual([]);
    expect(await sweepOutbox({ outboxes: [outbox], publisher, now: () => T0 + OUTBOX_LEASE_MS + 1 })).toEqual({ published: 1, failed: 0 });
    expect((await received()).map((a) => a.alert_id)).toEqual(["a-1"]);
    expect(await sweepOutbox({ outboxes: [outbox], publisher, now: () => T0 + 10 * OUTBOX_LEASE_MS })).toEqual({ published: 0, failed: 0 });
    expect(await received()).toEqual([]);
  });

  it("publishes an abandoned item once when three sweeps run at the same time", async () => {
    const { outbox, publisher, received } = await setup();
    await abandon(outbox, "b-1");
    await abandon(outbox, "b-2");
    const late = T0 + OUTBOX_LEASE_MS + 1;
    const runs = await Promise.all([1, 2, 3].map(() => sweepOutbox({ outboxes: [outbox], publisher, now: () => late })));
    expect(runs.reduce((n, r) => n + r.published, 0)).toBe(2);
    expect((await received()).map((a) => a.alert_id).sort()).toEqual(["b-1", "b-2"]);
  });

  it("keeps an item SNS refused and publishes it with a later sweep, after the lease it took", async () => {
    const { outbox, publisher, received } = await setup();
    await abandon(outbox, "c-1");
    const refusing: AlertPublisher = {
      publish: async () => {
        throw new Error("SNS refused");
      },
    };
    const first = T0 + OUTBOX_LEASE_MS + 1;
    expect(await sweepOutbox({ outboxes: [outbox], publisher: refusing, now: () => first })).toEqual({ published: 0, failed: 1 });
    // The failed sweep took a new lease: the next one waits for it to end.
    expect(await sweepOutbox({ outboxes: [outbox], publisher, now: () => first + 1 })).toEqual({ published: 0, failed: 0 });
    expect(await sweepOutbox({ outboxes: [outbox], publisher, now: () => first + OUTBOX_LEASE_MS + 1 })).toEqual({ published: 1, failed: 0 });
    expect((await received()).map((a) => a.alert_id)).toEqual(["c-1"]);
  });

  it("refuses a second item with the same alert_id in the writer's transaction", async () => {
    const { outbox } = await setup();
    await abandon(outbox, "d-1");
    await expect(abandon(outbox, "d-1")).rejects.toThrow(/ConditionalCheckFailed|cancel/i);
  });
});
