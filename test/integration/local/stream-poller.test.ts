import { CreateTableCommand, DeleteItemCommand, DeleteTableCommand, PutItemCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { DynamoDBStreamsClient } from "@aws-sdk/client-dynamodb-streams";
import type { DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { localClientConfig } from "../../../local/aws.ts";
import { tableSpec } from "../../../local/dynamodb.ts";
import { memoryCheckpoints } from "../../../local/pollers/checkpoints.ts";
import { StreamPoller, type StreamPollerOptions } from "../../../local/pollers/stream.ts";
import { TABLES } from "../../../lib/resources.ts";
import { streamRecordSchema } from "../../../lib/core/records.ts";
import { useStack } from "../../helpers/stack.ts";

const { info, dynamo } = useStack();
const streams = new DynamoDBStreamsClient(localClientConfig(info.dynamodbEndpoint));
// A table of this test's own, shaped like configs, so the stack's own poller never sees it.
const tableName = `stream-poller-test-${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  await dynamo.send(new CreateTableCommand(tableSpec(TABLES.configs, tableName)));
});
afterAll(async () => {
  await dynamo.send(new DeleteTableCommand({ TableName: tableName }));
  streams.destroy();
});

const put = (pk: string, extra: Record<string, { S: string }> = {}) =>
  dynamo.send(new PutItemCommand({ TableName: tableName, Item: { pk: { S: pk }, sk: { S: "v" }, ...extra } }));

function poller(overrides: Partial<StreamPollerOptions> & Pick<StreamPollerOptions, "invoke">): StreamPoller {
  return new StreamPoller({
    dynamo,
    streams,
    tableName,
    batchSize: 10,
    maxRetryAttempts: 2,
    bisectBatchOnError: true,
    checkpoints: memoryCheckpoints(),
    ...overrides,
  });
}

/** Runs passes until no records are left (bounded), like the poller's loop without its idle waits. */
async function drain(p: StreamPoller, passes = 20): Promise<void> {
  let idle = 0;
  for (let i = 0; i < passes && idle < 2; i++) idle = (await p.pollOnce()) === 0 ? idle + 1 : 0;
}

const pks = (events: DynamoDBStreamEvent[]): string[][] => events.map((e) => e.Records.map((r) => r.dynamodb?.Keys?.pk?.S ?? "?"));

describe("StreamPoller", () => {
  const checkpoints = memoryCheckpoints();

  it("delivers inserts, updates and deletes in order as Lambda-shaped records Powertools' schema accepts", async () => {
    await put("a", { status: { S: "PENDING" } });
    await dynamo.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: { pk: { S: "a" }, sk: { S: "v" } },
        UpdateExpression: "SET #s = :s",
        ExpressionAttributeNames: { "#s": "status" },
        ExpressionAttributeValues: { ":s": { S: "APPLIED" } },
      }),
    );
    await dynamo.send(new DeleteItemCommand({ TableName: tableName, Key: { pk: { S: "a" }, sk: { S: "v" } } }));
    const records: DynamoDBRecord[] = [];
    await drain(poller({ checkpoints, invoke: async (e) => void records.push(...e.Records) }));
    expect(records.map((r) => r.eventName)).toEqual(["INSERT", "MODIFY", "REMOVE"]);
    expect(records[1]).toMatchObject({
      eventSource: "aws:dynamodb",
      eventSourceARN: expect.stringContaining(`table/${tableName}/stream/`),
      dynamodb: {
        Keys: { pk: { S: "a" }, sk: { S: "v" } },
        OldImage: { status: { S: "PENDING" } },
        NewImage: { status: { S: "APPLIED" } },
        StreamViewType: "NEW_AND_OLD_IMAGES",
      },
    });
    expect(typeof records[0]?.dynamodb?.ApproximateCreationDateTime).toBe("number");
    for (const record of records) expect(streamRecordSchema.safeParse(record).error).toBeUndefined();
    expect(streamRecordSchema.parse(records[1]).dynamodb.NewImage).toEqual({ pk: "a", sk: "v", status: "APPLIED" });
  });

  it("resumes after its checkpoint: a new poller with the same store sees only new records", async () => {
    await put("after-checkpoint");
    const events: DynamoDBStreamEvent[] = [];
    await drain(poller({ checkpoints, invoke: async (e) => void events.push(e) }));
    expect(pks(events).flat()).toEqual(["after-checkpoint"]);
  });

  it("re-delivers from the first failed record only, as ReportBatchItemFailures does", async () => {
    const store = memoryCheckpoints();
    await drain(poller({ checkpoints: store, invoke: async () => undefined })); // skip what earlier tests wrote
    for (const pk of ["r1", "r2", "r3"]) await put(pk);
    const events: DynamoDBStreamEvent[] = [];
    let failedOnce = false;
    await drain(
      poller({
        checkpoints: store,
        invoke: async (event) => {
          events.push(event);
          const r2 = event.Records.find((r) => r.dynamodb?.Keys?.pk?.S === "r2");
          if (r2 && !failedOnce) {
            failedOnce = true;
            return { batchItemFailures: [{ itemIdentifier: r2.dynamodb?.SequenceNumber ?? "" }] };
          }
          return { batchItemFailures: [] };
        },
      }),
    );
    expect(pks(events)).toEqual([
      ["r1", "r2", "r3"],
      ["r2", "r3"],
    ]);
  });

  it("isolates a record that always throws by bisecting, gives it up after the retries, and goes on", async () => {
    const store = memoryCheckpoints();
    await drain(poller({ checkpoints: store, invoke: async () => undefined }));
    for (const pk of ["p1", "poison", "p3", "p4"]) await put(pk);
    const handled: string[] = [];
    const discarded: string[] = [];
    await drain(
      poller({
        checkpoints: store,
        maxRetryAttempts: 2,
        invoke: async (event) => {
          if (event.Records.some((r) => r.dynamodb?.Keys?.pk?.S === "poison")) throw new Error("poison record");
          handled.push(...event.Records.map((r) => r.dynamodb?.Keys?.pk?.S ?? "?"));
        },
        onDiscard: (records) => discarded.push(...records.map((r) => r.dynamodb?.Keys?.pk?.S ?? "?")),
      }),
      40,
    );
    expect(discarded).toEqual(["poison"]);
    expect(handled).toEqual(["p1", "p3", "p4"]);
  });

  it("consumes records no filter lets through without invoking, and moves past them", async () => {
    const store = memoryCheckpoints();
    await drain(poller({ checkpoints: store, invoke: async () => undefined }));
    await put("filtered");
    await dynamo.send(new DeleteItemCommand({ TableName: tableName, Key: { pk: { S: "filtered" }, sk: { S: "v" } } }));
    await put("after-filter");
    const names: string[] = [];
    await drain(
      poller({
        checkpoints: store,
        filters: [{ eventName: ["INSERT", "MODIFY"] }],
        invoke: async (event) => void names.push(...event.Records.map((r) => `${r.eventName}:${r.dynamodb?.Keys?.pk?.S}`)),
      }),
    );
    expect(names).toEqual(["INSERT:filtered", "INSERT:after-filter"]);
  });
});
