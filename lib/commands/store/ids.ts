/**
 * A command's agent ids as the store keeps them: each batch's ids once, gzipped, in an item never
 * rewritten (sk = ids#<hash>#<n>); for a command whose agents get no item before they are sent
 * (`sparse_agents`), its agents again in buckets by a hash of their id, each with its batch
 * (sk = members#<hash>#<n>), so a reply finds whether (and in which batch) an agent was targeted
 * by one read. Both spread over ID_SHARDS partition keys (items.ts).
 */
import { gunzipSync, gzipSync } from "node:zlib";
import { BatchGetCommand, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { BATCH_GET_MAX_KEYS, chunk } from "../../dynamo/batch.ts";
import { agentHash, idsItemSchema, idsSk, membersSk, shardPk, TTL, type IdsItem } from "./items.ts";
import { conditional, type CommandTable } from "./table.ts";

/** Agents per members bucket, about: a bucket is read whole by each reply that needs it. */
export const MEMBERS_PER_BUCKET = 1_000;

/** How many members buckets a command of `targets` agents has. */
export const memberBuckets = (targets: number): number => Math.max(1, Math.ceil(targets / MEMBERS_PER_BUCKET));

/** The bucket of an agent: a stable hash of its id. */
export function memberBucket(agentId: string, buckets: number): number {
  return agentHash(agentId) % buckets;
}

const encode = (lines: readonly string[]): Uint8Array<ArrayBuffer> => new Uint8Array(gzipSync(lines.join("\n")));
const decode = (bytes: Uint8Array): string[] => {
  const text = gunzipSync(bytes).toString("utf8");
  return text === "" ? [] : text.split("\n");
};

/** What is stored of one command's ids: the command's key parts and when its items expire. */
export interface IdsOf {
  readonly messageId: string;
  readonly hash: string;
  readonly expiresAt: number;
}

/** The ids item of one batch. */
export function idsItem(of: IdsOf, index: number, agentIds: readonly string[]): IdsItem {
  return { pk: shardPk(of.messageId, index), sk: idsSk(of.hash, index), ids: encode(agentIds), [TTL]: of.expiresAt };
}

/** The members items of a command: every agent with its batch, by bucket. */
export function memberItems(of: IdsOf, batches: readonly (readonly string[])[]): IdsItem[] {
  const total = batches.reduce((sum, ids) => sum + ids.length, 0);
  const buckets = memberBuckets(total);
  const lines: string[][] = Array.from({ length: buckets }, () => []);
  batches.forEach((ids, index) => {
    for (const id of ids) lines[memberBucket(id, buckets)]?.push(`${id}\t${index}`);
  });
  return lines.map((bucket, n) => ({ pk: shardPk(of.messageId, n), sk: membersSk(of.hash, n), ids: encode(bucket), [TTL]: of.expiresAt }));
}

/** Writes items that do not exist yet (a second identical submission writes none). */
export async function putIdsItems(table: CommandTable, items: readonly IdsItem[]): Promise<void> {
  await Promise.all(
    items.map((item) =>
      table.limit(() => conditional(table, new PutCommand({ TableName: table.tableName, Item: item, ConditionExpression: "attribute_not_exists(sk)" }))),
    ),
  );
}

/** The ids item's sort key of a batch (sk = batch#<hash>#<n>). */
const idsSkOf = (batchSk: string): string => `ids#${batchSk.slice("batch#".length)}`;

/** The agent ids of the batches given, by index; a batch without an ids item is left out. */
export async function readBatchIds(table: CommandTable, messageId: string, batches: readonly { sk: string; index: number }[]): Promise<Map<number, string[]>> {
  const found = new Map<number, string[]>();
  const indexOf = new Map(batches.map((b) => [idsSkOf(b.sk), b.index]));
  const name = table.tableName;
  await Promise.all(
    chunk(batches, BATCH_GET_MAX_KEYS).map((part) =>
      table.limit(async () => {
        let keys: Record<string, unknown>[] | undefined = part.map((b) => ({ pk: shardPk(messageId, b.index), sk: idsSkOf(b.sk) }));
        // Unprocessed keys come back under load: asked again until none is left.
        while (keys && keys.length > 0) {
          const out = await table.client.send(new BatchGetCommand({ RequestItems: { [name]: { Keys: keys, ConsistentRead: true } } }));
          for (const raw of out.Responses?.[name] ?? []) {
            const item = idsItemSchema.parse(raw);
            const index = indexOf.get(item.sk);
            if (index !== undefined) found.set(index, decode(item.ids));
          }
          keys = out.UnprocessedKeys?.[name]?.Keys as Record<string, unknown>[] | undefined;
        }
      }),
    ),
  );
  return found;
}

/** The batch of an agent of a sparse command, or undefined when the command did not target it. */
export async function memberBatch(
  table: CommandTable,
  command: { messageId: string; hash: string; targets: number },
  agentId: string,
): Promise<number | undefined> {
  const bucket = memberBucket(agentId, memberBuckets(command.targets));
  const out = await table.client.send(
    new GetCommand({ TableName: table.tableName, Key: { pk: shardPk(command.messageId, bucket), sk: membersSk(command.hash, bucket) }, ConsistentRead: true }),
  );
  if (!out.Item) return undefined;
  const prefix = `${agentId}\t`;
  const line = decode(idsItemSchema.parse(out.Item).ids).find((l) => l.startsWith(prefix));
  return line === undefined ? undefined : Number(line.slice(prefix.length));
}
