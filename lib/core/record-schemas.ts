/**
 * The event sources' record shapes, as Powertools' parser (2.35) defines them, field for field, with
 * its two helpers. Its modules import zod as `import { z }`, a namespace object esbuild cannot
 * tree-shake, which puts every zod locale (~350 kB) into each queue and stream consumer's bundle
 * (issue 23); these import `* as z`. lib/core/records.ts is their one user.
 */
import { unmarshallDynamoDB } from "@aws-lambda-powertools/commons/utils/unmarshallDynamoDB";
import * as z from "zod";

const sqsMessageAttributeSchema = z.object({
  stringValue: z.string().optional().nullable(),
  binaryValue: z.string().optional().nullable(),
  stringListValues: z.array(z.string()).optional(),
  binaryListValues: z.array(z.string()).optional(),
  dataType: z.union([z.literal("String"), z.literal("Number"), z.literal("Binary"), z.string()]),
});

/** An SQS record as Lambda delivers it (Powertools' SqsRecordSchema). */
export const sqsRecordSchema = z.object({
  messageId: z.string(),
  receiptHandle: z.string(),
  body: z.string(),
  attributes: z.object({
    ApproximateReceiveCount: z.string(),
    ApproximateFirstReceiveTimestamp: z.string(),
    MessageDeduplicationId: z.string().optional(),
    MessageGroupId: z.string().optional(),
    SenderId: z.string(),
    SentTimestamp: z.string(),
    SequenceNumber: z.string().optional(),
    AWSTraceHeader: z.string().optional(),
    DeadLetterQueueSourceArn: z.string().optional(),
  }),
  messageAttributes: z.record(z.string(), sqsMessageAttributeSchema),
  md5OfBody: z.string(),
  md5OfMessageAttributes: z.string().optional().nullable(),
  eventSource: z.literal("aws:sqs"),
  eventSourceARN: z.string(),
  awsRegion: z.string(),
});

/** A stream record's change, images still marshalled (Powertools' DynamoDBStreamChangeRecordBase). */
export const streamChangeBaseSchema = z.object({
  ApproximateCreationDateTime: z.number().optional(),
  Keys: z.record(z.string(), z.record(z.string(), z.any())),
  NewImage: z.record(z.string(), z.any()).optional(),
  OldImage: z.record(z.string(), z.any()).optional(),
  SequenceNumber: z.string(),
  SizeBytes: z.number(),
  StreamViewType: z.enum(["NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY"]),
});

/**
 * A DynamoDB stream record around its change (Powertools' DynamoDBStreamRecord, whose `dynamodb`
 * unmarshals; records.ts puts its own `dynamodb` in, so the change here is left as sent).
 */
export const streamRecordBaseSchema = z.object({
  eventID: z.string(),
  eventName: z.enum(["INSERT", "MODIFY", "REMOVE"]),
  eventVersion: z.string(),
  eventSource: z.literal("aws:dynamodb"),
  awsRegion: z.string(),
  eventSourceARN: z.string(),
  dynamodb: streamChangeBaseSchema,
  userIdentity: z.object({ type: z.enum(["Service"]), principalId: z.literal("dynamodb.amazonaws.com") }).optional(),
});

/** SNS's notification as it arrives in an SQS queue (Powertools' SnsSqsNotificationSchema). */
export const snsSqsNotificationSchema = z.object({
  Subject: z.string().nullish(),
  TopicArn: z.string(),
  UnsubscribeURL: z.string().optional(),
  SigningCertURL: z.url().optional(),
  Type: z.literal("Notification"),
  MessageAttributes: z.record(z.string(), z.object({ Type: z.string(), Value: z.string() })).optional(),
  Message: z.string(),
  MessageId: z.string(),
  Signature: z.string().optional(),
  SignatureVersion: z.string().optional(),
  Timestamp: z.iso.datetime(),
});

/** A string holding JSON of `schema`'s shape (Powertools' JSONStringified). */
export const jsonStringified = <S extends z.ZodType>(schema: S) =>
  z
    .string()
    .transform((text, ctx) => {
      try {
        return JSON.parse(text);
      } catch (error) {
        ctx.addIssue({ code: "custom", message: `Invalid JSON - ${(error as Error).message}`, fatal: true });
      }
    })
    .pipe(schema);

/** A marshalled DynamoDB image, unmarshalled into `schema`'s shape (Powertools' DynamoDBMarshalled). */
export const dynamoDBMarshalled = <S extends z.ZodType>(schema: S) =>
  z
    .union([z.custom(), z.record(z.string(), z.custom())])
    .transform((image, ctx) => {
      try {
        return unmarshallDynamoDB(image as never) as unknown;
      } catch {
        ctx.addIssue({ code: "custom", message: "Could not unmarshall DynamoDB stream record", fatal: true });
        return z.NEVER;
      }
    })
    .pipe(schema);
