import { Logger } from "@aws-lambda-powertools/logger";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ParsedBatch, queueRecordOf, queueRecordSchema, streamRecordSchema } from "../../../lib/core/records.ts";
import { captureOutput, lambdaContext, sqsRecord } from "../../helpers/events.ts";

const output = captureOutput();
const logger = new Logger({ serviceName: "records-test" });

describe("ParsedBatch", () => {
  it("reports a record that does not fit its schema as one failure, logs the field at fault, and runs the rest", async () => {
    const batch = new ParsedBatch("sqs", queueRecordOf(z.object({ agent_id: z.string() })), logger);
    const seen: string[] = [];
    const good = sqsRecord(JSON.stringify({ agent_id: "0:10.0.0.1" }), "m-good");
    const bad = sqsRecord(JSON.stringify({ agent_id: 7 }), "m-bad");
    const response = await batch.process({ Records: [good, bad] }, async (record) => void seen.push(record.body.agent_id), lambdaContext());
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: "m-bad" }]);
    expect(seen).toEqual(["0:10.0.0.1"]);
    const line = output
      .text()
      .split("\n")
      .find((l) => l.includes("record refused by its schema"));
    expect(JSON.parse(line ?? "{}")).toMatchObject({ level: "WARN", record_id: "m-bad", issues: expect.stringContaining("body.agent_id") });
  });

  it("refuses a record missing what Lambda always sends (its queue's ARN), naming the field", async () => {
    const batch = new ParsedBatch("sqs", queueRecordSchema, logger);
    const { eventSourceARN: _, ...partial } = sqsRecord("x", "m-no-arn");
    const response = await batch.process({ Records: [partial, sqsRecord("y", "m-ok")] }, async () => undefined);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: "m-no-arn" }]);
    expect(output.text()).toContain("eventSourceARN");
  });

  it("fails the whole batch when every record fails, as Powertools does", async () => {
    const batch = new ParsedBatch("sqs", queueRecordSchema, logger);
    await expect(
      batch.process({ Records: [sqsRecord("x", "m-1")] }, async () => {
        throw new Error("down");
      }),
    ).rejects.toThrow(/All records failed/);
  });
});

describe("streamRecordSchema", () => {
  it("unmarshalls the new and old images", () => {
    const record = {
      eventID: "1",
      eventName: "MODIFY",
      eventVersion: "1.1",
      eventSource: "aws:dynamodb",
      awsRegion: "us-east-1",
      eventSourceARN: "arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/x",
      dynamodb: {
        Keys: { pk: { S: "a" } },
        NewImage: { pk: { S: "a" }, attempts: { N: "2" } },
        OldImage: { pk: { S: "a" }, attempts: { N: "1" } },
        SequenceNumber: "100",
        SizeBytes: 10,
        StreamViewType: "NEW_AND_OLD_IMAGES",
      },
    };
    const parsed = streamRecordSchema.parse(record);
    expect(parsed.dynamodb.NewImage).toEqual({ pk: "a", attempts: 2 });
    expect(parsed.dynamodb.OldImage).toEqual({ pk: "a", attempts: 1 });
  });
});
