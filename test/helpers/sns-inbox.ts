/**
 * What subscribers of an SNS topic receive, read from an SQS queue subscribed to it (raw delivery
 * off): every message there now, each deleted once read. Two empty receives in a row end the read,
 * so a message SNS is still fanning out is not missed by one early empty answer.
 */
import { CreateTopicCommand, SubscribeCommand, type SNSClient } from "@aws-sdk/client-sns";
import { CreateQueueCommand, DeleteMessageCommand, GetQueueAttributesCommand, ReceiveMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";

export interface PublishedMessage {
  readonly body: Record<string, unknown>;
  readonly subject: string | undefined;
  readonly attributes: Readonly<Record<string, string | undefined>>;
}

/** SNS's envelope around a message delivered to SQS. */
interface SnsEnvelope {
  Message?: string;
  Subject?: string;
  MessageAttributes?: Record<string, { Type?: string; Value?: string }>;
}

export async function takePublished(sqs: SQSClient, queueUrl: string): Promise<PublishedMessage[]> {
  const out: PublishedMessage[] = [];
  for (let empty = 0; empty < 2; ) {
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    if (Messages.length === 0) {
      empty++;
      await new Promise((r) => setTimeout(r, 150));
      continue;
    }
    for (const message of Messages) {
      const envelope = JSON.parse(message.Body ?? "{}") as SnsEnvelope;
      out.push({
        body: JSON.parse(envelope.Message ?? "{}") as Record<string, unknown>,
        subject: envelope.Subject,
        attributes: Object.fromEntries(Object.entries(envelope.MessageAttributes ?? {}).map(([name, a]) => [name, a.Value])),
      });
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
    }
  }
  return out;
}

/** A topic of the test's own and a queue subscribed to it: what reaches the topic's subscribers. */
export async function topicWithInbox(sns: SNSClient, sqs: SQSClient, name: string): Promise<{ topicArn: string; take(): Promise<PublishedMessage[]> }> {
  const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: name }));
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-inbox` }));
  if (!TopicArn || !QueueUrl) throw new Error("could not create the test topic and queue");
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["QueueArn"] }));
  await sns.send(new SubscribeCommand({ TopicArn, Protocol: "sqs", Endpoint: Attributes?.QueueArn }));
  return { topicArn: TopicArn, take: () => takePublished(sqs, QueueUrl) };
}
