/**
 * RolloutStore: a rollout's items in the commands table (lib/rollouts/items.ts). The snapshot is
 * written before the meta item that makes it real; every later change of meta is one conditional
 * write on its rev, with the wave item it starts or ends in the same transaction.
 */
import { BatchGetCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { BatchTable, BATCH_GET_MAX_KEYS, chunk, type BatchStoreOptions } from "../dynamo/batch.ts";
import type { Page } from "../dynamo/cursor.ts";
import { queryPage, transactConditional, type TransactItem } from "../commands/store/table.ts";
import {
  META_SK,
  ROLLOUT_INDEX_PK,
  rolloutIndexSchema,
  rolloutIndexSk,
  rolloutItemSchema,
  rolloutPk,
  TARGET_CHUNK,
  targetsChunkSchema,
  targetsSk,
  TTL,
  WAVE_PREFIX,
  waveItemSchema,
  type GateState,
  type RolloutItem,
  type WaveItem,
} from "./items.ts";
import { isConditionFailure } from "../dynamo/conditions.ts";

export type RolloutChange = Partial<Omit<RolloutItem, "pk" | "sk" | "rollout_id" | "rev" | "updated_at">>;

export class RolloutStore {
  readonly tableName: string;
  private readonly table: BatchTable;

  constructor(options: BatchStoreOptions) {
    this.tableName = options.tableName;
    this.table = new BatchTable(options, 16);
  }

  /** The table, for the alert outbox: an abort and its alert are one transaction. */
  get outboxTable(): { readonly client: BatchTable["client"]; readonly tableName: string } {
    return { client: this.table.client, tableName: this.tableName };
  }

  /** The snapshot, in chunks keyed by the body's hash: two bodies racing on one id write apart. */
  async putTargets(id: string, hash: string, ids: readonly string[], expiresAt: number): Promise<void> {
    const chunks = chunk(ids, TARGET_CHUNK);
    await Promise.all(
      chunks.map((agentIds, n) =>
        this.table.client.send(
          new PutCommand({ TableName: this.tableName, Item: { pk: rolloutPk(id), sk: targetsSk(hash, n), agent_ids: agentIds, [TTL]: expiresAt } }),
        ),
      ),
    );
  }

  /** Creates the rollout and its index entry; false when the id is taken. */
  async create(item: RolloutItem): Promise<boolean> {
    return transactConditional(this.table, [
      { Put: { TableName: this.tableName, Item: item, ConditionExpression: "attribute_not_exists(pk)" } },
      {
        Put: {
          TableName: this.tableName,
          Item: {
            pk: ROLLOUT_INDEX_PK,
            sk: rolloutIndexSk(item.created_at, item.rollout_id),
            rollout_id: item.rollout_id,
            created_at: item.created_at,
            [TTL]: item[TTL],
          },
        },
      },
    ]);
  }

  async get(id: string): Promise<RolloutItem | undefined> {
    const out = await this.table.client.send(new GetCommand({ TableName: this.tableName, Key: { pk: rolloutPk(id), sk: META_SK }, ConsistentRead: true }));
    return out.Item ? rolloutItemSchema.parse(out.Item) : undefined;
  }

  /** The snapshot's ids from `offset`, `size` of them. */
  async targets(item: RolloutItem, offset: number, size: number): Promise<string[]> {
    const first = Math.floor(offset / TARGET_CHUNK);
    const last = Math.floor((offset + size - 1) / TARGET_CHUNK);
    const ids: string[] = [];
    for (let n = first; n <= last && n < item.chunk_count; n++) {
      const out = await this.table.client.send(
        new GetCommand({ TableName: this.tableName, Key: { pk: rolloutPk(item.rollout_id), sk: targetsSk(item.body_hash, n) }, ConsistentRead: true }),
      );
      ids.push(...targetsChunkSchema.parse(out.Item).agent_ids);
    }
    const from = offset - first * TARGET_CHUNK;
    return ids.slice(from, from + size);
  }

  async waves(id: string): Promise<WaveItem[]> {
    const waves: WaveItem[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.table.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
          ExpressionAttributeValues: { ":pk": rolloutPk(id), ":prefix": WAVE_PREFIX },
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const raw of out.Items ?? []) waves.push(waveItemSchema.parse(raw));
      start = out.LastEvaluatedKey;
    } while (start);
    return waves;
  }

  /** The meta change (conditional on the rev read) and its wave item as one write; false when another writer got there first. */
  update(item: RolloutItem, change: RolloutChange, now: number, wave?: WaveItem, extra: readonly TransactItem[] = []): Promise<boolean> {
    return transactConditional(this.table, [
      this.updateItem(item, change, now),
      ...(wave ? [{ Put: { TableName: this.tableName, Item: wave } }] : []),
      ...extra,
    ]);
  }

  /** The conditional meta write alone, for a transaction built elsewhere (the abort and its alert). */
  updateItem(item: RolloutItem, change: RolloutChange, now: number): TransactItem {
    const next: RolloutItem = { ...item, ...change, rev: item.rev + 1, updated_at: now };
    return { Put: { TableName: this.tableName, Item: next, ConditionExpression: "rev = :rev", ExpressionAttributeValues: { ":rev": item.rev } } };
  }

  /** When the next tick is due and what the gate saw last: not state changes, so not on rev. */
  async setTickState(id: string, fields: { next_tick_at?: number; gate?: GateState }): Promise<void> {
    const names = Object.keys(fields).filter((k) => fields[k as keyof typeof fields] !== undefined);
    if (names.length === 0) return;
    try {
      await this.table.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: rolloutPk(id), sk: META_SK },
          UpdateExpression: `SET ${names.map((n) => `#${n} = :${n}`).join(", ")}`,
          ConditionExpression: "attribute_exists(pk)",
          ExpressionAttributeNames: Object.fromEntries(names.map((n) => [`#${n}`, n])),
          ExpressionAttributeValues: Object.fromEntries(names.map((n) => [`:${n}`, fields[n as keyof typeof fields]])),
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  /** The index, newest first. */
  list(request: { limit: number; cursor: string | undefined }): Promise<Page<{ rollout_id: string; created_at: number }>> {
    return queryPage(this.table, { pk: ROLLOUT_INDEX_PK, schema: rolloutIndexSchema }, request, {
      KeyConditionExpression: "pk = :pk",
      ExpressionAttributeValues: { ":pk": ROLLOUT_INDEX_PK },
      ScanIndexForward: false,
    });
  }

  async getMany(ids: readonly string[]): Promise<Map<string, RolloutItem>> {
    const found = new Map<string, RolloutItem>();
    for (const part of chunk([...new Set(ids)], BATCH_GET_MAX_KEYS)) {
      let keys: Record<string, unknown>[] = part.map((id) => ({ pk: rolloutPk(id), sk: META_SK }));
      while (keys.length > 0) {
        const out = await this.table.client.send(new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } } }));
        for (const raw of out.Responses?.[this.tableName] ?? []) {
          const parsed = rolloutItemSchema.safeParse(raw);
          if (parsed.success) found.set(parsed.data.rollout_id, parsed.data);
        }
        keys = out.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
      }
    }
    return found;
  }
}
