/**
 * The one way anything is put on an SQS queue: a job as JSON, message bodies already serialised,
 * or one message with attributes (the dead-letter queue's reason).
 */
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { traced } from "./tracing.ts";

/** SQS holds a message back at most 15 minutes. */
export const MAX_DELAY_SECONDS = 900;

/** The SQS client, traced (one factory for every AWS client: lib/core/aws.ts). */
export function sqsClient(): SQSClient {
  return traced(new SQSClient({}));
}

export interface SendOptions {
  /** Held back this long: rounded, and kept within 0 to 900 s. Left out, the queue's own delay applies. */
  readonly delaySeconds?: number;
  /** String message attributes, e.g. why a job was set aside. */
  readonly attributes?: Readonly<Record<string, string>>;
}

export interface QueueSender {
  /** One job, as its JSON. */
  send(job: object, delaySeconds?: number): Promise<void>;
  /** One message whose body is already serialised. */
  sendBody(body: string, options?: SendOptions): Promise<void>;
  /**
   * Several serialised bodies, all at once, one SendMessage each; rejects if any is not sent.
   * Not SendMessageBatch: its size limit is for the whole call, the same as one message's, and
   * the bodies sent this way are each sized close to that limit (lib/agent-state/write-back.ts).
   */
  sendBodies(bodies: readonly string[]): Promise<void>;
}

const clampDelay = (seconds: number): number => Math.max(0, Math.min(MAX_DELAY_SECONDS, Math.round(seconds)));

export function sqsSender(sqs: SQSClient, queueUrl: string): QueueSender {
  const sendBody = async (body: string, options: SendOptions = {}): Promise<void> => {
    const attributes = Object.entries(options.attributes ?? {});
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: body,
        ...(options.delaySeconds !== undefined ? { DelaySeconds: clampDelay(options.delaySeconds) } : {}),
        ...(attributes.length > 0
          ? { MessageAttributes: Object.fromEntries(attributes.map(([name, value]) => [name, { DataType: "String", StringValue: value }])) }
          : {}),
      }),
    );
  };
  return {
    send: (job, delaySeconds) => sendBody(JSON.stringify(job), delaySeconds === undefined ? {} : { delaySeconds }),
    sendBody,
    async sendBodies(bodies) {
      await Promise.all(bodies.map((body) => sendBody(body)));
    },
  };
}
