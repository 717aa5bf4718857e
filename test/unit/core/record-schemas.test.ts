import { JSONStringified } from "@aws-lambda-powertools/parser/helpers";
import { DynamoDBMarshalled } from "@aws-lambda-powertools/parser/helpers/dynamodb";
import { DynamoDBStreamChangeRecordBase, DynamoDBStreamRecord } from "@aws-lambda-powertools/parser/schemas/dynamodb";
import { SnsSqsNotificationSchema } from "@aws-lambda-powertools/parser/schemas/sns";
import { SqsRecordSchema } from "@aws-lambda-powertools/parser/schemas/sqs";
import { describe, expect, it } from "vitest";
import * as z from "zod";
import {
  dynamoDBMarshalled,
  jsonStringified,
  snsSqsNotificationSchema,
  sqsRecordSchema,
  streamChangeBaseSchema,
  streamRecordBaseSchema,
} from "../../../lib/core/record-schemas.ts";
import { sqsRecord } from "../../helpers/events.ts";

/** What a schema makes of a value: the data, or each issue's path, code and message. */
function outcome(schema: z.ZodType, value: unknown) {
  const result = schema.safeParse(value);
  return result.success ? { data: result.data } : { issues: result.error.issues.map(({ path, code, message }) => ({ path, code, message })) };
}

const streamRecord = {
  eventID: "1",
  eventName: "MODIFY",
  eventVersion: "1.1",
  eventSource: "aws:dynamodb",
  awsRegion: "us-east-1",
  eventSourceARN: "arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/x",
  dynamodb: {
    ApproximateCreationDateTime: 1,
    Keys: { pk: { S: "a" } },
    NewImage: { pk: { S: "a" }, n: { N: "2" } },
    OldImage: { pk: { S: "a" }, n: { N: "1" } },
    SequenceNumber: "100",
    SizeBytes: 10,
    StreamViewType: "NEW_AND_OLD_IMAGES",
  },
  userIdentity: { type: "Service", principalId: "dynamodb.amazonaws.com" },
};

const notification = {
  Type: "Notification",
  MessageId: "m-1",
  TopicArn: "arn:aws:sns:us-east-1:000000000000:alerts",
  Subject: null,
  Message: '{"a":1}',
  Timestamp: "2026-12-03T10:00:00.000Z",
  SignatureVersion: "1",
  Signature: "sig",
  SigningCertURL: "https://sns.us-east-1.amazonaws.com/cert.pem",
  UnsubscribeURL: "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
  MessageAttributes: { kind: { Type: "String", Value: "alert" } },
};

/** Each value with one thing wrong, beside the value itself. */
const variants = (value: Record<string, unknown>, wrongs: Record<string, unknown>[]) => [value, ...wrongs.map((w) => ({ ...value, ...w }))];

describe("our record schemas (Powertools' parser's, without its zod namespace import)", () => {
  it("accept and refuse SQS records exactly as Powertools' SqsRecordSchema does", () => {
    const record = { ...sqsRecord('{"agent_id":"0:1"}', "m-1"), md5OfMessageAttributes: null };
    for (const value of variants(record, [
      { eventSource: "aws:sns" },
      { attributes: { ApproximateReceiveCount: "1" } },
      { messageAttributes: { a: { dataType: "Other", stringValue: "x" } } },
      { messageAttributes: { a: { stringValue: "x" } } },
      { body: 7 },
    ])) {
      expect(outcome(sqsRecordSchema, value)).toEqual(outcome(SqsRecordSchema, value));
    }
  });

  it("accept and refuse DynamoDB stream records and their images exactly as Powertools' schemas do", () => {
    const ours = streamRecordBaseSchema.extend({
      dynamodb: streamChangeBaseSchema.extend({ NewImage: dynamoDBMarshalled(z.record(z.string(), z.unknown())).optional() }),
    });
    const theirs = DynamoDBStreamRecord.extend({
      dynamodb: DynamoDBStreamChangeRecordBase.extend({ NewImage: DynamoDBMarshalled(z.record(z.string(), z.unknown())).optional() }),
    });
    for (const value of variants(streamRecord, [
      { eventName: "UPSERT" },
      { dynamodb: { ...streamRecord.dynamodb, StreamViewType: "ALL" } },
      { dynamodb: { ...streamRecord.dynamodb, NewImage: { pk: { Q: "?" } } } },
      { dynamodb: { ...streamRecord.dynamodb, SizeBytes: "10" } },
      { userIdentity: { type: "User", principalId: "x" } },
    ])) {
      expect(outcome(ours, value)).toEqual(outcome(theirs, value));
    }
  });

  it("accept and refuse SNS notifications in SQS, and JSON in a string, exactly as Powertools' do", () => {
    for (const value of variants(notification, [
      { Type: "SubscriptionConfirmation" },
      { Timestamp: "yesterday" },
      { SigningCertURL: "not a url" },
      { UnsubscribeURL: "not a url either" },
      { MessageAttributes: { kind: { Type: "String" } } },
    ])) {
      const text = JSON.stringify(value);
      expect(outcome(jsonStringified(snsSqsNotificationSchema), text)).toEqual(outcome(JSONStringified(SnsSqsNotificationSchema), text));
    }
    expect(outcome(jsonStringified(z.object({ a: z.number() })), "{not json")).toEqual(outcome(JSONStringified(z.object({ a: z.number() })), "{not json"));
  });
});
