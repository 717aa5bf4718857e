/**
 * Helpers for tests of configuration versions against the shared stack: read the configs table
 * as the functions wrote it, and an alert inbox of the test file's own (an SQS queue subscribed to
 * the alerts topic) that counts the alerts about one object.
 */
import { CreateQueueCommand, DeleteMessageCommand, GetQueueAttributesCommand, ReceiveMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { SubscribeCommand, type SNSClient } from "@aws-sdk/client-sns";
import { DynamoDBDocumentClient, ScanCommand } from "@aws-sdk/lib-dynamodb";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { randomUUID } from "node:crypto";
import type { ConfigAlert } from "../../lib/config-versions/alerts.ts";
import type { ObjectRef } from "../../lib/config-versions/documents.ts";
import { ConfigStore, type HeadItem, type VersionItem } from "../../lib/store/configs.ts";
import type { StackInfo } from "../../local/stack.ts";

export function configStore(info: StackInfo, dynamo: DynamoDBClient): ConfigStore {
  return new ConfigStore({ client: DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } }), tableName: info.tables.configs });
}

/** The pending-add records that ended with GSE's allocated id `id` (a scan: tests only). */
export async function pendingAddsAllocating(info: StackInfo, dynamo: DynamoDBClient, id: number): Promise<Record<string, unknown>[]> {
  const client = DynamoDBDocumentClient.from(dynamo);
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await client.send(
      new ScanCommand({ TableName: info.tables.configs, FilterExpression: "sk = :p AND allocated_id = :id", ExpressionAttributeValues: { ":p": "pending", ":id": id }, ...(start ? { ExclusiveStartKey: start } : {}) }),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

export const route = (id: number): ObjectRef => ({ kind: "route", id });
export const streamTo = (id: number): ObjectRef => ({ kind: "streamto", id });

export async function headOf(store: ConfigStore, ref: ObjectRef): Promise<HeadItem | undefined> {
  return store.getHead(ref);
}

export async function versionOf(store: ConfigStore, ref: ObjectRef, version: number): Promise<VersionItem | undefined> {
  return store.getVersion(ref, version);
}

export interface AlertInbox {
  /**
   * Every rollback alert received so far about `object` (`route#123`), after draining the queue.
   * Drift alerts are left out: the stack's scheduled check may raise one about any object.
   */
  about(object: string): Promise<ConfigAlert[]>;
}

/** A queue of this file's own, subscribed to the alerts topic: nobody else reads it. */
export async function alertInbox(info: StackInfo, sqs: SQSClient, sns: SNSClient): Promise<AlertInbox> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `${info.stage}-test-alerts-${randomUUID().slice(0, 8)}` }));
  if (!QueueUrl) throw new Error("no queue url");
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["QueueArn"] }));
  await sns.send(new SubscribeCommand({ TopicArn: info.alertsTopicArn, Protocol: "sqs", Endpoint: Attributes?.QueueArn }));
  const received: ConfigAlert[] = [];
  const drain = async (): Promise<void> => {
    for (;;) {
      const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
      if (Messages.length === 0) return;
      for (const message of Messages) {
        const envelope = JSON.parse(message.Body ?? "{}") as { Message?: string };
        try {
          received.push(JSON.parse(envelope.Message ?? "") as ConfigAlert);
        } catch {
          // Not a config alert (another test's plain text): not ours to count.
        }
        await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: message.ReceiptHandle }));
      }
    }
  };
  return {
    async about(object) {
      await drain();
      return received.filter((a) => a.object === object && a.type !== "config.drift");
    },
  };
}
