import type { APIGatewayProxyEventV2, Context } from "aws-lambda";
import { afterEach, beforeEach, vi } from "vitest";
import type { CommandItem } from "../../lib/commands/store.ts";
import type { QueueRecord, StreamRecord } from "../../lib/core/records.ts";

/** An API Gateway HTTP API (payload 2.0) event, as the local gateway and AWS build it. */
export function httpEvent(input: {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
  isBase64Encoded?: boolean;
}): APIGatewayProxyEventV2 {
  const method = input.method ?? "POST";
  const path = input.path ?? "/test";
  return {
    version: "2.0",
    routeKey: `${method} ${path}`,
    rawPath: path,
    rawQueryString: "",
    headers: input.headers ?? {},
    requestContext: {
      accountId: "000000000000",
      apiId: "test",
      domainName: "localhost",
      domainPrefix: "localhost",
      http: { method, path, protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "vitest" },
      requestId: "gateway-request-id",
      routeKey: `${method} ${path}`,
      stage: "$default",
      time: new Date(0).toUTCString(),
      timeEpoch: 0,
    },
    ...(input.body !== undefined ? { body: input.body } : {}),
    isBase64Encoded: input.isBase64Encoded ?? false,
  };
}

export function lambdaContext(): Context {
  const fail = (): never => {
    throw new Error("not supported");
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: "test",
    functionVersion: "$LATEST",
    invokedFunctionArn: "arn:aws:lambda:us-east-1:000000000000:function:test",
    memoryLimitInMB: "256",
    awsRequestId: "aws-request-id",
    logGroupName: "/aws/lambda/test",
    logStreamName: "test",
    getRemainingTimeInMillis: () => 10_000,
    done: fail,
    fail,
    succeed: fail,
  };
}

export const authHeader = (code: string, secret: string): Record<string, string> => ({
  "X-Bkapi-Authorization": JSON.stringify({ bk_app_code: code, bk_app_secret: secret, bk_username: "admin" }),
});

/** An SQS record as Lambda delivers it, with `body` as sent. */
export function sqsRecord(body: string, messageId = "00000000-0000-4000-8000-000000000001"): QueueRecord {
  return {
    messageId,
    receiptHandle: `receipt-${messageId}`,
    body,
    attributes: { ApproximateReceiveCount: "1", SentTimestamp: "0", SenderId: "local", ApproximateFirstReceiveTimestamp: "0" },
    messageAttributes: {},
    md5OfBody: "",
    eventSource: "aws:sqs",
    eventSourceARN: "arn:aws:sqs:us-east-1:000000000000:automation",
    awsRegion: "us-east-1",
  };
}

/** A DynamoDB stream record as recovery's rules get it: parsed, its images unmarshalled. */
export function streamRecord(eventName: StreamRecord["eventName"], newImage?: object, oldImage?: object): StreamRecord {
  return {
    eventID: "event-1",
    eventName,
    eventVersion: "1.1",
    eventSource: "aws:dynamodb",
    awsRegion: "us-east-1",
    eventSourceARN: "arn:aws:dynamodb:us-east-1:000000000000:table/configs/stream/2026-01-01T00:00:00.000",
    dynamodb: {
      Keys: {},
      SequenceNumber: "1",
      SizeBytes: 1,
      StreamViewType: "NEW_AND_OLD_IMAGES",
      ...(newImage ? { NewImage: { ...newImage } } : {}),
      ...(oldImage ? { OldImage: { ...oldImage } } : {}),
    },
  };
}

/**
 * What the process writes (Powertools logs errors to stderr, the rest to stdout) during each test
 * of the file, kept instead of printed: `text()` is all of it so far.
 */
export function captureOutput(): { text(): string } {
  let output: string[] = [];
  let restore: () => void = () => undefined;
  beforeEach(() => {
    output = [];
    const capture = (chunk: string | Uint8Array): boolean => {
      output.push(String(chunk));
      return true;
    };
    const spies = [vi.spyOn(process.stdout, "write").mockImplementation(capture), vi.spyOn(process.stderr, "write").mockImplementation(capture)];
    restore = () => {
      for (const spy of spies) spy.mockRestore();
    };
  });
  afterEach(() => restore());
  return { text: () => output.join("") };
}

/**
 * A command's meta item as the store keeps it: by default one that ended ABORTED at its
 * max_errors (300 targets in batches of 10, 3 batches done, 6 errors).
 */
export function commandItem(fields: Partial<CommandItem> = {}): CommandItem {
  const id = fields.message_id ?? "reload.42";
  return {
    pk: `cmd#${id}`,
    sk: "meta",
    message_id: id,
    body_hash: "h",
    content: "x",
    target_count: 300,
    batch_count: 30,
    batch_size: 10,
    parallel: 1,
    max_concurrency: 10,
    max_errors: 5,
    reply_timeout_seconds: null,
    max_attempts: 5,
    status: "ABORTED",
    reason: "6 delivery failures, more than max_errors 5",
    batches_done: 3,
    errors: 6,
    pending_retries: 0,
    created_by: "test",
    created_at: 1,
    updated_at: 1,
    index_sk: `1#${id}`,
    expires_at: 9,
    ...fields,
  };
}
