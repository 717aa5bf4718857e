import type { SQSClient } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import { sqsSender } from "../../../lib/core/queue.ts";

function recordingSqs(fail?: (body: string) => boolean): { sqs: SQSClient; sent: Record<string, unknown>[] } {
  const sent: Record<string, unknown>[] = [];
  const sqs = {
    send: async (command: { input: Record<string, unknown> }) => {
      if (fail?.(String(command.input.MessageBody))) throw new Error("throttled");
      sent.push(command.input);
    },
  } as unknown as SQSClient;
  return { sqs, sent };
}

describe("the SQS sender", () => {
  it("sends a job as its JSON, with the delay rounded and kept within SQS's 0 to 900 s when one is given", async () => {
    const { sqs, sent } = recordingSqs();
    const queue = sqsSender(sqs, "q");
    await queue.send({ type: "a.b" });
    await queue.send({ type: "a.b" }, 0);
    await queue.send({ type: "a.b" }, 12.6);
    await queue.send({ type: "a.b" }, 5000);
    await queue.send({ type: "a.b" }, -3);
    expect(sent).toEqual([
      { QueueUrl: "q", MessageBody: '{"type":"a.b"}' },
      { QueueUrl: "q", MessageBody: '{"type":"a.b"}', DelaySeconds: 0 },
      { QueueUrl: "q", MessageBody: '{"type":"a.b"}', DelaySeconds: 13 },
      { QueueUrl: "q", MessageBody: '{"type":"a.b"}', DelaySeconds: 900 },
      { QueueUrl: "q", MessageBody: '{"type":"a.b"}', DelaySeconds: 0 },
    ]);
  });

  it("sends serialised bodies one message each, and fails if any one is not sent", async () => {
    const { sqs, sent } = recordingSqs((body) => body === "b2");
    const queue = sqsSender(sqs, "q");
    await queue.sendBodies(["b1", "b3"]);
    expect(sent.map((m) => m.MessageBody)).toEqual(["b1", "b3"]);
    await expect(queue.sendBodies(["b1", "b2"])).rejects.toThrow("throttled");
  });
});
