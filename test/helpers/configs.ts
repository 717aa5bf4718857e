/**
 * Helpers for tests of configuration versions against the shared stack: read the configs table
 * as the functions wrote it, and an alert inbox of the test file's own (an SQS queue subscribed to
 * the alerts topic) that counts the alerts about one object.
 */
import { CreateQueueCommand, DeleteMessageCommand, GetQueueAttributesCommand, ReceiveMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { SubscribeCommand, type SNSClient } from "@aws-sdk/client-sns";
import { DynamoDBDocumentClient, ScanCommand } from "@aws-sdk/lib-dynamodb";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { Logger } from "@aws-lambda-powertools/logger";
import { randomUUID } from "node:crypto";
import { changeConfig, type ConfigDeps } from "../../lib/config-versions/apply.ts";
import type { ConfigAlert } from "../../lib/config-versions/alerts.ts";
import type { ObjectRef } from "../../lib/config-versions/documents.ts";
import { GseClient, type CallOptions } from "../../lib/gse/client.ts";
import type { OperationName, OperationRequest, OperationRequestInput, OperationResponseData } from "../../lib/gse/operations.ts";
import { ConfigStore, type HeadItem, type VersionItem } from "../../lib/config-versions/store.ts";
import type { StackInfo } from "../../local/stack.ts";
import { eventually, uniqueBuiltInChannelId, testGseConfig } from "./stack.ts";

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
      new ScanCommand({
        TableName: info.tables.configs,
        FilterExpression: "sk = :p AND allocated_id = :id",
        ExpressionAttributeValues: { ":p": "pending", ":id": id },
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
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
   * Every config alert received so far about `object` (`route#123`), after draining the queue.
   * Drift alerts are left out: the stack's scheduled check may raise one about any object.
   */
  about(object: string): Promise<ConfigAlert[]>;
}

/**
 * Waits until recovery has passed every configs stream record written so far: a change of an
 * object of its own fails (outcome unknown), and its alert arrives only after the records before
 * it (one stream, read in order). After this, "no alert about X" is a checked fact.
 */
export async function recoverySettled(info: StackInfo, store: ConfigStore, inbox: AlertInbox): Promise<void> {
  const channelId = uniqueBuiltInChannelId();
  const gse = directGse(info);
  const plat = "sentinel";
  const op = { operator_name: "admin" };
  const entry = (n: string) => ({ name: n, stream_to: { stream_to_id: 501, kafka: { topic_name: `sentinel_${channelId}_${n}` } } });
  await changeConfig(
    libDeps(store, gse),
    "add_route",
    { metadata: { channel_id: channelId, plat_name: plat }, operation: op, route: [entry("a")] } as OperationRequest<"add_route">,
    { author: "sentinel" },
  );
  await changeConfig(
    libDeps(store, new LosingGse(info, "update_route")),
    "update_route",
    { condition: { channel_id: channelId, plat_name: plat }, operation: op, specification: { route: [entry("b")] } } as OperationRequest<"update_route">,
    { author: "sentinel" },
  ).catch(() => undefined);
  await eventually(
    "the sentinel's alert (recovery has passed every earlier record)",
    async () => ((await inbox.about(`route#${channelId}`)).length > 0 ? true : undefined),
    30_000,
  );
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

/** A GSE client straight at the stack's simulator: "another client", or a look at what GSE holds. */
export function directGse(info: StackInfo): GseClient {
  return new GseClient({
    gse: testGseConfig(info),
  });
}

/**
 * GSE takes the first `operation` call, then the answer is "lost" in a way no read-back resolves
 * (a plain error, not GSE's): the change's outcome is unknown, so it ends FAILED. `afterApply`
 * runs in between (another client acting before recovery reads GSE).
 */
export class LosingGse extends GseClient {
  private fired = false;
  constructor(
    info: StackInfo,
    private readonly operation: OperationName,
    private readonly afterApply?: () => Promise<unknown>,
  ) {
    super({
      gse: testGseConfig(info),
    });
  }

  override async call<N extends OperationName>(
    name: N,
    body: OperationRequestInput<N> | OperationRequest<N>,
    options?: CallOptions,
  ): Promise<OperationResponseData<N>> {
    const data = await super.call(name, body, options);
    if (name === this.operation && !this.fired) {
      this.fired = true;
      await this.afterApply?.();
      throw new Error("connection lost after GSE applied the change");
    }
    return data;
  }
}

/** The versioned flow's dependencies for a test that drives lib/ directly against the stack. */
export function libDeps(store: ConfigStore, gse: GseClient, overrides: Partial<ConfigDeps> = {}): ConfigDeps {
  return {
    gse,
    store,
    logger: new Logger({ logLevel: "SILENT" }),
    now: () => Date.now(),
    newId: () => randomUUID(),
    settings: { pendingAddTtlSeconds: 3600 },
    ...overrides,
  };
}
