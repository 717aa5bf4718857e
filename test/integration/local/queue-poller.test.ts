import { CreateQueueCommand, DeleteQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QueuePoller } from "../../../local/pollers/queue.ts";
import { queueRecordSchema, type QueueRecord } from "../../../lib/core/records.ts";
import { eventually, useStack } from "../../helpers/stack.ts";

const { sqs } = useStack();
const suffix = randomUUID().slice(0, 8);
let queueUrl = "";
let dlqUrl = "";

beforeAll(async () => {
  dlqUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `poller-dlq-${suffix}` }))).QueueUrl ?? "";
  const dlqArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ["QueueArn"] }))).Attributes?.QueueArn;
  queueUrl =
    (
      await sqs.send(
        new CreateQueueCommand({
          QueueName: `poller-${suffix}`,
          // One second, so a failed message comes back quickly; two receives, then the DLQ.
          Attributes: { VisibilityTimeout: "1", RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 2 }) },
        }),
      )
    ).QueueUrl ?? "";
});
afterAll(async () => {
  await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
  await sqs.send(new DeleteQueueCommand({ QueueUrl: dlqUrl }));
});

describe("QueuePoller", () => {
  it("hands a batch to the function as an SQS event Powertools' schema accepts and deletes what succeeded, keeping the failed one", async () => {
    for (const body of ["ok-1", "fail", "ok-2"]) {
      await sqs.send(
        new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body, MessageAttributes: { reason: { DataType: "String", StringValue: "why" } } }),
      );
    }
    const seen: { Records: QueueRecord[] }[] = [];
    const poller = new QueuePoller({
      sqs,
      queueUrl,
      batchSize: 10,
      waitSeconds: 1,
      invoke: async (event) => {
        seen.push(event);
        return { batchItemFailures: event.Records.filter((r) => r.body === "fail").map((r) => ({ itemIdentifier: r.messageId })) };
      },
    });
    let received = 0;
    while (received < 3) received += await poller.pollOnce();
    expect(seen.flatMap((e) => e.Records.map((r) => r.body)).sort()).toEqual(["fail", "ok-1", "ok-2"]);
    expect(seen[0]?.Records[0]).toMatchObject({
      eventSource: "aws:sqs",
      eventSourceARN: expect.stringContaining(`poller-${suffix}`),
      attributes: { ApproximateReceiveCount: "1" },
      messageAttributes: { reason: { dataType: "String", stringValue: "why" } },
    });
    for (const record of seen.flatMap((e) => e.Records)) expect(queueRecordSchema.safeParse(record).error).toBeUndefined();

    // Only the failed message comes back; after its second failure SQS moves it to the DLQ.
    const again = await eventually("the failed message to come back", async () => {
      const before = seen.length;
      await poller.pollOnce();
      return seen.length > before ? seen[seen.length - 1] : undefined;
    });
    expect(again.Records.map((r) => [r.body, r.attributes.ApproximateReceiveCount])).toEqual([["fail", "2"]]);
    const dead = await eventually("the message on the dead-letter queue", async () => {
      await poller.pollOnce();
      return (await sqs.send(new ReceiveMessageCommand({ QueueUrl: dlqUrl, WaitTimeSeconds: 1 }))).Messages?.[0];
    });
    expect(dead.Body).toBe("fail");
  });

  it("keeps the whole batch when the function throws", async () => {
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "throws" }));
    let calls = 0;
    const poller = new QueuePoller({
      sqs,
      queueUrl,
      batchSize: 10,
      waitSeconds: 1,
      invoke: async () => {
        calls++;
        if (calls === 1) throw new Error("function crashed");
      },
    });
    await eventually("the first delivery", async () => ((await poller.pollOnce()) > 0 ? true : undefined));
    await eventually("the redelivery after the crash", async () => ((await poller.pollOnce()) > 0 ? true : undefined));
    expect(calls).toBe(2);
  });
});
