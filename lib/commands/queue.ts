import { SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { JobQueue } from "./engine.ts";

/** Commands' delayed work on the automation queue (SQS DelaySeconds, at most 900). */
export function sqsJobQueue(sqs: SQSClient, queueUrl: string): JobQueue {
  return {
    async send(job, delaySeconds) {
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(job), DelaySeconds: Math.max(0, Math.min(900, Math.round(delaySeconds))) }));
    },
  };
}
