import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type Message,
  type MessageAttributeValue,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { createHash } from "node:crypto";
import type { QueueRecord } from "../../lib/core/records.ts";
import { LOCAL_REGION } from "../aws.ts";
import { readBatchResponse } from "./batch-response.ts";
import { PollingLoop } from "./loop.ts";

export interface QueuePollerOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly batchSize: number;
  readonly invoke: (event: { Records: QueueRecord[] }) => Promise<unknown>;
  /** Long-poll wait; short so that stop() returns promptly. */
  readonly waitSeconds?: number;
  readonly onInvoke?: (summary: { records: number; failed: number; error?: unknown }) => void;
}

function toLambdaAttributes(attributes: Record<string, MessageAttributeValue> | undefined): QueueRecord["messageAttributes"] {
  return Object.fromEntries(
    Object.entries(attributes ?? {}).map(([name, value]) => [
      name,
      {
        dataType: value.DataType ?? "String",
        ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
        ...(value.BinaryValue !== undefined ? { binaryValue: Buffer.from(value.BinaryValue).toString("base64") } : {}),
        stringListValues: [],
        binaryListValues: [],
      },
    ]),
  );
}

/**
 * A received message as Lambda's SQS event source delivers it: the shape Powertools' SqsRecordSchema
 * checks (every attribute Lambda always sends, the body's MD5, the queue's ARN and region).
 */
export function toSqsRecord(message: Message, queueArn: string): QueueRecord {
  const a = message.Attributes ?? {};
  return {
    messageId: message.MessageId ?? "",
    receiptHandle: message.ReceiptHandle ?? "",
    body: message.Body ?? "",
    attributes: {
      ApproximateReceiveCount: a.ApproximateReceiveCount ?? "1",
      SentTimestamp: a.SentTimestamp ?? String(Date.now()),
      SenderId: a.SenderId ?? "local",
      ApproximateFirstReceiveTimestamp: a.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
      ...(a.MessageGroupId ? { MessageGroupId: a.MessageGroupId } : {}),
      ...(a.MessageDeduplicationId ? { MessageDeduplicationId: a.MessageDeduplicationId } : {}),
    },
    messageAttributes: toLambdaAttributes(message.MessageAttributes),
    md5OfBody:
      message.MD5OfBody ??
      createHash("md5")
        .update(message.Body ?? "")
        .digest("hex"),
    ...(message.MD5OfMessageAttributes ? { md5OfMessageAttributes: message.MD5OfMessageAttributes } : {}),
    eventSource: "aws:sqs",
    eventSourceARN: queueArn,
    awsRegion: LOCAL_REGION,
  };
}

/**
 * Lambda's SQS event source mapping: receive up to batchSize, invoke, delete what succeeded.
 * Failed messages stay on the queue; SQS makes them visible again after the visibility timeout
 * and moves them to the dead-letter queue after maxReceiveCount.
 */
export class QueuePoller extends PollingLoop {
  private queueArn: string | undefined;

  constructor(private readonly options: QueuePollerOptions) {
    super();
  }

  /** The receive itself long-polls, so only a failure makes the loop wait. */
  protected async pass(): Promise<boolean> {
    await this.pollOnce();
    return false;
  }

  protected waitMs(): number {
    return 500;
  }

  protected onPassError(error: unknown): void {
    this.options.onInvoke?.({ records: 0, failed: 0, error });
  }

  async pollOnce(): Promise<number> {
    const { sqs, queueUrl } = this.options;
    this.queueArn ??=
      (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["QueueArn"] }))).Attributes?.QueueArn ??
      `arn:aws:sqs:${LOCAL_REGION}:000000000000:${queueUrl.split("/").at(-1)}`;
    const received = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: Math.min(10, this.options.batchSize),
        WaitTimeSeconds: this.options.waitSeconds ?? 1,
        MessageSystemAttributeNames: ["All"],
        MessageAttributeNames: ["All"],
      }),
    );
    const messages = received.Messages ?? [];
    if (messages.length === 0) return 0;
    const records = messages.map((m) => toSqsRecord(m, this.queueArn as string));
    let outcome: ReturnType<typeof readBatchResponse>;
    try {
      outcome = readBatchResponse(
        await this.options.invoke({ Records: records }),
        records.map((r) => r.messageId),
      );
    } catch (error) {
      outcome = { kind: "error" as const, error };
    }
    const done = outcome.kind === "ok" ? records : outcome.kind === "partial" ? records.filter((r) => !outcome.failedIds.has(r.messageId)) : [];
    if (done.length > 0) {
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: done.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })),
        }),
      );
    }
    this.options.onInvoke?.({
      records: records.length,
      failed: records.length - done.length,
      ...(outcome.kind === "error" ? { error: outcome.error } : {}),
    });
    return records.length;
  }
}
