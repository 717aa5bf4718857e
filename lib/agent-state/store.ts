/**
 * The agents table (lib/resources.ts TABLES.agents): one item per agent id exactly as callers
 * spell it (legacy `cloud:ip` or GSE 2.0 id), holding what GSE last said about it. Written by the
 * agent state cache (lib/agent-state/lookup.ts) and meant to be shared with the heartbeat poller, so the
 * field names say what they are and nothing here knows which route asked.
 */
import { BatchGetCommand, BatchWriteCommand } from "@aws-sdk/lib-dynamodb";
import * as z from "zod";
import {
  BatchTable,
  BATCH_GET_MAX_KEYS,
  BATCH_WRITE_MAX_ITEMS,
  MAX_KEY_BYTES,
  chunk,
  drainUnprocessed,
  runStatements,
  type BatchStoreOptions,
} from "../dynamo/batch.ts";
import { TABLES } from "../resources.ts";

export type DynamoAgentStoreOptions = BatchStoreOptions;

/** Whether an id can be a key of the table; GSE ids are far shorter, a caller's may not be. */
export const isStorableAgentId = (id: string): boolean => id.length > 0 && Buffer.byteLength(id, "utf8") <= MAX_KEY_BYTES;

/** Which GSE call last filled an item (bk-monitor's USE_GSE_AGENT_STATUS_NEW_API decides). */
export const AGENT_SOURCES = ["list_agent_state", "get_agent_status"] as const;
export type AgentSource = (typeof AGENT_SOURCES)[number];

const KEY = TABLES.agents.hashKey.name;
const TTL_ATTRIBUTE = TABLES.agents.ttlAttribute;

/** What GSE said about one id: the state part of an item (a write-back job carries these). */
export const agentFactsSchema = z.object({
  known: z.boolean(),
  source: z.enum(AGENT_SOURCES),
  bk_cloud_id: z.int().optional(),
  version: z.string().optional(),
  run_mode: z.int().optional(),
  status_code: z.int().optional(),
  alive: z.boolean(),
});
export type AgentFacts = z.infer<typeof agentFactsSchema>;

/**
 * One agent id as stored.
 * - `known`: false when GSE omitted the id (negative cache); no state fields then.
 * - State (`bk_cloud_id`, `version`, `run_mode`, `status_code`, `alive`): what GSE said.
 *   Filled by `get_agent_status` (ESB), an item has only `bk_cloud_id` and `alive`: the legacy
 *   call reports nothing else, and it cannot tell an unknown host from a dead one.
 * - `fetched_at` (ms): when GSE last confirmed this state; freshness is judged by it.
 * - `changed_at` (ms): when the state last differed from the one before.
 * - `expires_at` (epoch seconds): DynamoDB TTL, renewed with every confirmation, so only agents
 *   nobody has asked about for long are evicted.
 * Attributes this module does not know (a later poller's) are kept when an item is rewritten.
 */
export const agentItemSchema = z.looseObject({
  [KEY]: z.string().min(1),
  ...agentFactsSchema.shape,
  fetched_at: z.number(),
  changed_at: z.number(),
  [TTL_ATTRIBUTE]: z.int(),
});
export type AgentItem = z.infer<typeof agentItemSchema>;

/** The fields a change is judged by; bookkeeping (times, TTL) is not part of the state. */
export const AGENT_STATE_FIELDS = ["known", "source", "bk_cloud_id", "version", "run_mode", "status_code", "alive"] as const;

/** A freshness renewal: set `fetched_at`/`expires_at`, only if the item is still as it was read. */
export interface AgentRenewal {
  readonly agent_id: string;
  /** `fetched_at` of the item as read; the update is conditional on it. */
  readonly seen_fetched_at: number;
  readonly fetched_at: number;
  readonly expires_at: number;
}

/** DynamoDB calls made on behalf of one request (a request passes its own counter). */
export interface StoreCalls {
  batchGet: number;
  batchWrite: number;
  batchStatement: number;
}

export const newStoreCalls = (): StoreCalls => ({ batchGet: 0, batchWrite: 0, batchStatement: 0 });

export interface RenewResult {
  readonly renewed: number;
  /** The item changed or vanished since it was read: someone else's write is newer, left alone. */
  readonly conflicts: number;
  readonly failed: number;
}

/** What the cache needs from a store; unit tests pass an in-memory one. */
export interface AgentStore {
  /**
   * Items by id; ids without an item (or with one this module cannot read) are absent.
   * `onPart` hears each batch as it is read (its ids and what was found of them), so a caller
   * can act on the first ids while the rest are still being read.
   */
  getMany(
    ids: readonly string[],
    calls: StoreCalls,
    onPart?: (ids: readonly string[], found: ReadonlyMap<string, AgentItem>) => void,
  ): Promise<Map<string, AgentItem>>;
  /** Full items, unconditionally. Returns how many could not be written after retries. */
  putMany(items: readonly AgentItem[], calls: StoreCalls): Promise<{ failed: number }>;
  renewMany(renewals: readonly AgentRenewal[], calls: StoreCalls): Promise<RenewResult>;
}

/** One BatchWriteItem put request. */
type PutEntry = { readonly PutRequest: { readonly Item: Record<string, unknown> } };

export class DynamoAgentStore extends BatchTable implements AgentStore {
  constructor(options: DynamoAgentStoreOptions) {
    super(options, 32);
  }

  async getMany(
    ids: readonly string[],
    calls: StoreCalls,
    onPart?: (ids: readonly string[], found: ReadonlyMap<string, AgentItem>) => void,
  ): Promise<Map<string, AgentItem>> {
    const found = new Map<string, AgentItem>();
    const table = this.tableName;
    await Promise.all(
      chunk(ids, BATCH_GET_MAX_KEYS).map((part) =>
        this.limit(async () => {
          const partFound = new Map<string, AgentItem>();
          const left = await drainUnprocessed(
            part.map((id): Record<string, unknown> => ({ [KEY]: id })),
            async (keys) => {
              calls.batchGet++;
              const out = await this.client.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: [...keys] } } }));
              for (const raw of out.Responses?.[table] ?? []) {
                const item = parseAgentItem(raw);
                if (item) partFound.set(item.agent_id, item);
              }
              return out.UnprocessedKeys?.[table]?.Keys ?? [];
            },
            this.retry,
          );
          if (left.length > 0) throw new Error(`DynamoDB left ${left.length} agent keys unprocessed after ${this.retry.maxAttempts} rounds`);
          for (const [id, item] of partFound) found.set(id, item);
          onPart?.(part, partFound);
        }),
      ),
    );
    return found;
  }

  async putMany(items: readonly AgentItem[], calls: StoreCalls): Promise<{ failed: number }> {
    const table = this.tableName;
    const results = await Promise.all(
      chunk(items, BATCH_WRITE_MAX_ITEMS).map((part) =>
        this.limit(async () => {
          const left = await drainUnprocessed(
            part.map((item): PutEntry => ({ PutRequest: { Item: { ...item } } })),
            async (requests) => {
              calls.batchWrite++;
              const out = await this.client.send(new BatchWriteCommand({ RequestItems: { [table]: [...requests] } }));
              return (out.UnprocessedItems?.[table] ?? []).flatMap((r): PutEntry[] =>
                r.PutRequest?.Item ? [{ PutRequest: { Item: r.PutRequest.Item } }] : [],
              );
            },
            this.retry,
          );
          return left.length;
        }),
      ),
    );
    return { failed: results.reduce((a, b) => a + b, 0) };
  }

  /**
   * PartiQL UPDATE … WHERE agent_id = ? AND fetched_at = ?: 25 conditional updates per call.
   * UpdateItem would be one call per item; BatchWriteItem cannot carry a condition.
   */
  async renewMany(renewals: readonly AgentRenewal[], calls: StoreCalls): Promise<RenewResult> {
    const statement = `UPDATE "${this.tableName}" SET fetched_at = ? SET ${TTL_ATTRIBUTE} = ? WHERE ${KEY} = ? AND fetched_at = ?`;
    const outcomes = await runStatements(this.client, this.limit, this.retry, renewals, {
      statementOf: (r) => ({ Statement: statement, Parameters: [r.fetched_at, r.expires_at, r.agent_id, r.seen_fetched_at] }),
      onCall: () => void calls.batchStatement++,
      expected: "ConditionalCheckFailed",
    });
    return { renewed: outcomes.done, conflicts: outcomes.expected, failed: outcomes.failed };
  }
}

/** An item as read, or undefined when it is not one this module wrote (treated as missing). */
export function parseAgentItem(raw: unknown): AgentItem | undefined {
  const parsed = agentItemSchema.safeParse(raw);
  return parsed.success ? parsed.data : undefined;
}
