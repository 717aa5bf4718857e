/**
 * The commands table (lib/resources.ts TABLES.commands). A command is written before GSE hears of
 * it; each agent gets its own item just before its batch is sent, so a reply can never arrive
 * for an agent we have no item for.
 *
 *   pk = cmd#<message_id>   sk = meta                    the command: settings, status, counters
 *   pk = cmd#<message_id>   sk = batch#<hash>#<5 digits> one batch: its agent ids and send state
 *   pk = cmd#<message_id>   sk = agent#<agent id>        one agent's outcome, attempts, reply
 *   pk = cmds#index         sk = <created ms>#<id>       every command, newest last (listing, watchdog)
 *   pk = upstream#<day>     sk = <ms>#<agent>#<n>        a message from an agent no command asked for
 *
 * Batch keys carry the body's hash: two different bodies racing on one message_id write apart,
 * and only the one whose meta item wins is ever read.
 */
import {
  BatchWriteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  paginateQuery,
  type DynamoDBDocumentClient,
  type QueryCommandInput,
} from "@aws-sdk/lib-dynamodb";
import pLimit, { type LimitFunction } from "p-limit";
import { z } from "zod";
import { agentOutcomeSchema, commandStatusSchema, outcomeCountsSchema, type AgentOutcome, type CommandStatus } from "./schemas.ts";
import { TABLES } from "../resources.ts";
import { isConditionFailure, isTransactionConflict } from "../dynamo/conditions.ts";
import { decodeKeyCursor, encodeKeyCursor, type Page } from "../dynamo/cursor.ts";
import { BATCH_WRITE_MAX_ITEMS, chunk, drainUnprocessed, retryPolicy, type BatchStoreOptions, type RetryPolicy } from "../dynamo/batch.ts";

const TTL = TABLES.commands.ttlAttribute;

export const BATCH_STATES = ["PENDING", "SENDING", "SENT", "SKIPPED"] as const;

export const commandItemSchema = z.object({
  pk: z.string(),
  sk: z.literal("meta"),
  message_id: z.string(),
  body_hash: z.string(),
  content: z.string(),
  target_count: z.int(),
  batch_count: z.int(),
  batch_size: z.int(),
  parallel: z.int(),
  max_concurrency: z.int(),
  max_errors: z.int().nullable(),
  reply_timeout_seconds: z.int().nullable(),
  max_attempts: z.int(),
  status: commandStatusSchema,
  reason: z.string().optional(),
  batches_done: z.int(),
  /** Delivery failures so far (first failures only): what max_errors is checked against. */
  errors: z.int(),
  /** Agents whose delivery failed and that wait for another attempt. */
  pending_retries: z.int(),
  created_by: z.string(),
  created_at: z.number(),
  updated_at: z.number(),
  finished_at: z.number().optional(),
  counts: outcomeCountsSchema.optional(),
  alerted_at: z.number().optional(),
  /** Who started the command and why, when not a caller of dispatch (an APM datasource action): read back by that owner. */
  origin: z.record(z.string(), z.unknown()).optional(),
  index_sk: z.string(),
  [TTL]: z.int(),
});
export type CommandItem = z.infer<typeof commandItemSchema>;

export const batchItemSchema = z.object({
  pk: z.string(),
  sk: z.string(),
  index: z.int(),
  size: z.int(),
  agent_ids: z.array(z.string()).optional(),
  state: z.enum(BATCH_STATES),
  claim: z.string().optional(),
  lease_until: z.number().optional(),
  sent_at: z.number().optional(),
  failed: z.int().optional(),
  /** Sends of the whole batch so far; a batch GSE refused as a whole waits until not_before. */
  attempts: z.int().optional(),
  not_before: z.number().optional(),
  [TTL]: z.int(),
});
export type BatchItem = z.infer<typeof batchItemSchema>;

export const agentCommandItemSchema = z.object({
  pk: z.string(),
  sk: z.string(),
  agent_id: z.string(),
  batch: z.int(),
  outcome: agentOutcomeSchema,
  attempts: z.int(),
  /** No further attempt will be made (FAILED for good). */
  final: z.boolean().optional(),
  code: z.int().optional(),
  message: z.string().optional(),
  reply: z.string().optional(),
  replied_at: z.number().optional(),
  retry_at: z.number().optional(),
  claimed_at: z.number().optional(),
  updated_at: z.number(),
  [TTL]: z.int(),
});
export type AgentCommandItem = z.infer<typeof agentCommandItemSchema>;

export const indexItemSchema = z.object({
  pk: z.literal("cmds#index"),
  sk: z.string(),
  message_id: z.string(),
  status: commandStatusSchema,
  targets: z.int(),
  created_at: z.number(),
  created_by: z.string(),
  [TTL]: z.int(),
});
export type IndexItem = z.infer<typeof indexItemSchema>;

export const upstreamItemSchema = z.object({
  pk: z.string(),
  sk: z.string(),
  message_id: z.string(),
  bk_agent_id: z.string(),
  content: z.string(),
  received_at: z.number(),
  [TTL]: z.int(),
});
export type UpstreamItem = z.infer<typeof upstreamItemSchema>;

export const commandPk = (messageId: string): string => `cmd#${messageId}`;
export const agentSk = (agentId: string): string => `agent#${agentId}`;
export const batchPrefix = (hash: string): string => `batch#${hash}#`;
export const batchSk = (hash: string, index: number): string => `${batchPrefix(hash)}${String(index).padStart(5, "0")}`;
const INDEX_PK = "cmds#index";
export const indexSk = (createdAt: number, messageId: string): string => `${String(createdAt).padStart(13, "0")}#${messageId}`;
export const upstreamPk = (day: string): string => `upstream#${day}`;

/** A failed delivery to record: GSE's per-agent code and message. */
export interface AgentFailure {
  readonly agentId: string;
  readonly code: number;
  readonly message: string;
  /** No further attempt (attempts used up, or the command no longer runs). */
  readonly final: boolean;
}

/** Counter changes on the command that go with agent changes, in the same transaction. */
export interface CommandDelta {
  readonly errors?: number;
  readonly pendingRetries?: number;
  readonly batchesDone?: number;
}

export type { Page };

export class CommandStore {
  private readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  private readonly limit: LimitFunction;
  private readonly retry: RetryPolicy;

  constructor(options: BatchStoreOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.limit = pLimit(options.concurrency ?? 16);
    this.retry = retryPolicy(options);
  }

  // --- the command ----------------------------------------------------------------------------

  /** Writes the batches that do not exist yet (a second identical submission writes none). */
  async putBatches(items: readonly BatchItem[]): Promise<void> {
    await Promise.all(
      items.map((item) =>
        this.limit(() => this.conditional(new PutCommand({ TableName: this.tableName, Item: item, ConditionExpression: "attribute_not_exists(sk)" }))),
      ),
    );
  }

  /** Creates the command and its index entry; false when one with this message_id exists. */
  async createCommand(item: CommandItem): Promise<boolean> {
    return this.transactConditional([
      { Put: { TableName: this.tableName, Item: item, ConditionExpression: "attribute_not_exists(pk)" } },
      {
        Put: {
          TableName: this.tableName,
          Item: {
            pk: INDEX_PK,
            sk: item.index_sk,
            message_id: item.message_id,
            status: item.status,
            targets: item.target_count,
            created_at: item.created_at,
            created_by: item.created_by,
            [TTL]: item[TTL],
          } satisfies IndexItem,
        },
      },
    ]);
  }

  async getCommand(messageId: string): Promise<CommandItem | undefined> {
    const out = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { pk: commandPk(messageId), sk: "meta" }, ConsistentRead: true }));
    return out.Item ? commandItemSchema.parse(out.Item) : undefined;
  }

  /** Adds to the command's counters; returns the command after the change. */
  async addToCommand(messageId: string, delta: CommandDelta, now: number): Promise<CommandItem> {
    const update = deltaUpdate(delta, now);
    const out = await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: commandPk(messageId), sk: "meta" },
        UpdateExpression: update.expression,
        ExpressionAttributeValues: update.values,
        ConditionExpression: "attribute_exists(pk)",
        ReturnValues: "ALL_NEW",
      }),
    );
    return commandItemSchema.parse(out.Attributes);
  }

  /**
   * Moves a RUNNING command to a final status (and its index entry along); false when it was no
   * longer RUNNING, so only one finisher wins.
   */
  async finish(item: CommandItem, status: Exclude<CommandStatus, "RUNNING">, fields: { counts?: CommandItem["counts"]; reason?: string }, now: number): Promise<boolean> {
    const values: Record<string, unknown> = { ":running": "RUNNING", ":status": status, ":now": now };
    const sets = ["#status = :status", "updated_at = :now", "finished_at = :now"];
    if (fields.counts) {
      sets.push("#counts = :counts");
      values[":counts"] = fields.counts;
    }
    if (fields.reason !== undefined) {
      sets.push("reason = :reason");
      values[":reason"] = fields.reason;
    }
    return this.transactConditional([
      {
        Update: {
          TableName: this.tableName,
          Key: { pk: item.pk, sk: "meta" },
          UpdateExpression: `SET ${sets.join(", ")}`,
          ConditionExpression: "#status = :running",
          ExpressionAttributeNames: { "#status": "status", ...(fields.counts ? { "#counts": "counts" } : {}) },
          ExpressionAttributeValues: values,
        },
      },
      {
        Update: {
          TableName: this.tableName,
          Key: { pk: INDEX_PK, sk: item.index_sk },
          UpdateExpression: "SET #status = :status",
          ExpressionAttributeNames: { "#status": "status" },
          ExpressionAttributeValues: { ":status": status },
        },
      },
    ]);
  }

  /**
   * Stores the final counts of an ended command (recounted from its final outcomes); false when
   * its alert went out already: from then on the counts are the alert's and stay as they are.
   */
  async setCounts(messageId: string, counts: NonNullable<CommandItem["counts"]>): Promise<boolean> {
    return this.conditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: commandPk(messageId), sk: "meta" },
        UpdateExpression: "SET #counts = :counts",
        ConditionExpression: "attribute_exists(pk) AND attribute_not_exists(alerted_at)",
        ExpressionAttributeNames: { "#counts": "counts" },
        ExpressionAttributeValues: { ":counts": counts },
      }),
    );
  }

  /**
   * Marks the command's alert as published, with the counts it carried (so the command shows what
   * the alert said); false when it already was.
   */
  async markAlerted(messageId: string, counts: NonNullable<CommandItem["counts"]>, now: number): Promise<boolean> {
    return this.conditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: commandPk(messageId), sk: "meta" },
        UpdateExpression: "SET alerted_at = :now, #counts = :counts",
        ConditionExpression: "attribute_exists(pk) AND attribute_not_exists(alerted_at)",
        ExpressionAttributeNames: { "#counts": "counts" },
        ExpressionAttributeValues: { ":now": now, ":counts": counts },
      }),
    );
  }

  // --- batches --------------------------------------------------------------------------------

  /** The command's batches, in order; without their agent ids unless asked. */
  async batches(messageId: string, hash: string, withIds = false): Promise<BatchItem[]> {
    const items: BatchItem[] = [];
    const pages = paginateQuery(
      { client: this.client },
      {
        TableName: this.tableName,
        KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
        ExpressionAttributeValues: { ":pk": commandPk(messageId), ":prefix": batchPrefix(hash) },
        ...(withIds ? {} : { ProjectionExpression: "pk, sk, #index, #size, #state, claim, lease_until, sent_at, failed, attempts, not_before, #ttl", ExpressionAttributeNames: { "#index": "index", "#size": "size", "#state": "state", "#ttl": TTL } }),
        ConsistentRead: true,
      },
    );
    for await (const page of pages) for (const item of page.Items ?? []) items.push(batchItemSchema.parse(item));
    return items;
  }

  async batch(messageId: string, sk: string): Promise<BatchItem | undefined> {
    const out = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { pk: commandPk(messageId), sk }, ConsistentRead: true }));
    return out.Item ? batchItemSchema.parse(out.Item) : undefined;
  }

  /**
   * Claims a batch for sending: PENDING, or SENDING under a lease that ran out (its sender died).
   * Returns the batch with its ids, or undefined when someone else has it.
   */
  async claimBatch(messageId: string, sk: string, claim: string, now: number, leaseMs: number): Promise<BatchItem | undefined> {
    try {
      const out = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: commandPk(messageId), sk },
          UpdateExpression: "SET #state = :sending, claim = :claim, lease_until = :lease",
          ConditionExpression: "#state = :pending OR (#state = :sending AND lease_until < :now)",
          ExpressionAttributeNames: { "#state": "state" },
          ExpressionAttributeValues: { ":sending": "SENDING", ":pending": "PENDING", ":claim": claim, ":lease": now + leaseMs, ":now": now },
          ReturnValues: "ALL_NEW",
        }),
      );
      return batchItemSchema.parse(out.Attributes);
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  /** The batch is sent (its failures recorded): it counts as done on the command, once. */
  async completeBatch(messageId: string, sk: string, claim: string, failed: number, now: number): Promise<boolean> {
    return this.transactConditional([
      {
        Update: {
          TableName: this.tableName,
          Key: { pk: commandPk(messageId), sk },
          UpdateExpression: "SET #state = :sent, sent_at = :now, failed = :failed REMOVE lease_until",
          ConditionExpression: "#state = :sending AND claim = :claim",
          ExpressionAttributeNames: { "#state": "state" },
          ExpressionAttributeValues: { ":sent": "SENT", ":sending": "SENDING", ":claim": claim, ":now": now, ":failed": failed },
        },
      },
      this.deltaItem(messageId, { batchesDone: 1 }, now),
    ]);
  }

  /**
   * GSE refused the whole batch for a passing reason (5xx, 429, timeout): it goes back to PENDING,
   * to be sent again, whole, from `notBefore`.
   */
  async releaseBatch(messageId: string, sk: string, claim: string, attempts: number, notBefore: number): Promise<boolean> {
    return this.conditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: commandPk(messageId), sk },
        UpdateExpression: "SET #state = :pending, attempts = :attempts, not_before = :notBefore REMOVE lease_until, claim",
        ConditionExpression: "#state = :sending AND claim = :claim",
        ExpressionAttributeNames: { "#state": "state" },
        ExpressionAttributeValues: { ":pending": "PENDING", ":sending": "SENDING", ":claim": claim, ":attempts": attempts, ":notBefore": notBefore },
      }),
    );
  }

  /** Batches never sent of a command that stopped early. */
  async skipBatch(messageId: string, sk: string): Promise<void> {
    await this.conditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: commandPk(messageId), sk },
        UpdateExpression: "SET #state = :skipped",
        ConditionExpression: "#state = :pending",
        ExpressionAttributeNames: { "#state": "state" },
        ExpressionAttributeValues: { ":skipped": "SKIPPED", ":pending": "PENDING" },
      }),
    );
  }

  // --- agents ---------------------------------------------------------------------------------

  /** Each agent of a batch gets its item before the batch goes to GSE: replies always find one. */
  async prewriteAgents(messageId: string, batch: number, agentIds: readonly string[], now: number, expiresAt: number): Promise<void> {
    const table = this.tableName;
    await Promise.all(
      chunk(agentIds, BATCH_WRITE_MAX_ITEMS).map((part) =>
        this.limit(async () => {
          const items = part.map((agentId) => ({
            PutRequest: {
              Item: { pk: commandPk(messageId), sk: agentSk(agentId), agent_id: agentId, batch, outcome: "PENDING", attempts: 1, updated_at: now, [TTL]: expiresAt } satisfies AgentCommandItem,
            },
          }));
          const left = await drainUnprocessed(
            items,
            async (requests) => {
              const out = await this.client.send(new BatchWriteCommand({ RequestItems: { [table]: [...requests] } }));
              return (out.UnprocessedItems?.[table] ?? []) as typeof items;
            },
            this.retry,
          );
          if (left.length > 0) throw new Error(`DynamoDB left ${left.length} command agent items unwritten`);
        }),
      ),
    );
  }

  /**
   * Records first delivery failures of a batch (agents still PENDING), with the command's counters,
   * in transactions of up to 99 agents: a failure is counted exactly when its agent changes.
   */
  async recordFailures(messageId: string, failures: readonly AgentFailure[], now: number): Promise<void> {
    for (const part of chunk(failures, 99)) {
      const retrying = part.filter((f) => !f.final).length;
      try {
        await this.transact([
          ...part.map((failure) => this.failureItem(messageId, failure, ["PENDING"], 1, now)),
          this.deltaItem(messageId, { errors: part.length, pendingRetries: retrying }, now),
        ]);
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        // Some agent moved on (a second sender after a lost lease): record the rest one by one.
        for (const failure of part) {
          try {
            await this.transact([this.failureItem(messageId, failure, ["PENDING"], 1, now), this.deltaItem(messageId, { errors: 1, pendingRetries: failure.final ? 0 : 1 }, now)]);
          } catch (inner) {
            if (!isConditionFailure(inner)) throw inner;
          }
        }
      }
    }
  }

  async getAgent(messageId: string, agentId: string): Promise<AgentCommandItem | undefined> {
    const out = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { pk: commandPk(messageId), sk: agentSk(agentId) }, ConsistentRead: true }));
    return out.Item ? agentCommandItemSchema.parse(out.Item) : undefined;
  }

  /** Recovery took a FAILED agent in hand: RETRYING until its next attempt. */
  async markRetrying(messageId: string, agentId: string, attempts: number, retryAt: number, now: number): Promise<boolean> {
    return this.conditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: commandPk(messageId), sk: agentSk(agentId) },
        UpdateExpression: "SET outcome = :retrying, retry_at = :at, updated_at = :now",
        ConditionExpression: "outcome = :failed AND attempts = :attempts AND (attribute_not_exists(#final) OR #final = :no)",
        ExpressionAttributeNames: { "#final": "final" },
        ExpressionAttributeValues: { ":retrying": "RETRYING", ":failed": "FAILED", ":attempts": attempts, ":at": retryAt, ":now": now, ":no": false },
      }),
    );
  }

  /** One retry job claims attempt n+1; a second delivery of the same job finds attempts moved on. */
  async claimRetry(messageId: string, agentId: string, attempts: number, now: number): Promise<boolean> {
    return this.conditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: commandPk(messageId), sk: agentSk(agentId) },
        UpdateExpression: "SET attempts = :next, claimed_at = :now, updated_at = :now",
        ConditionExpression: "outcome = :retrying AND attempts = :attempts",
        ExpressionAttributeValues: { ":retrying": "RETRYING", ":attempts": attempts, ":next": attempts + 1, ":now": now },
      }),
    );
  }

  /** A retry was delivered: SENT, one retry fewer pending. */
  async retryDelivered(messageId: string, agentId: string, attempts: number, now: number): Promise<boolean> {
    return this.transactConditional([
      {
        Update: {
          TableName: this.tableName,
          Key: { pk: commandPk(messageId), sk: agentSk(agentId) },
          UpdateExpression: "SET outcome = :sent, updated_at = :now REMOVE code, message, retry_at",
          ConditionExpression: "outcome = :retrying AND attempts = :attempts",
          ExpressionAttributeValues: { ":sent": "SENT", ":retrying": "RETRYING", ":attempts": attempts, ":now": now },
        },
      },
      this.deltaItem(messageId, { pendingRetries: -1 }, now),
    ]);
  }

  /** A retry failed again: FAILED (recovery schedules the next) or FAILED for good. */
  async retryFailed(messageId: string, failure: AgentFailure, attempts: number, now: number): Promise<boolean> {
    return this.transactConditional([
      this.failureItem(messageId, failure, ["RETRYING"], attempts, now),
      ...(failure.final ? [this.deltaItem(messageId, { pendingRetries: -1 }, now)] : []),
    ]);
  }

  /** A FAILED or RETRYING agent of a command that stopped: no more attempts. */
  async giveUp(messageId: string, agentId: string, now: number): Promise<boolean> {
    return this.transactConditional([
      {
        Update: {
          TableName: this.tableName,
          Key: { pk: commandPk(messageId), sk: agentSk(agentId) },
          UpdateExpression: "SET outcome = :failed, #final = :yes, updated_at = :now",
          ConditionExpression: "outcome IN (:failed, :retrying) AND (attribute_not_exists(#final) OR #final = :no)",
          ExpressionAttributeNames: { "#final": "final" },
          ExpressionAttributeValues: { ":failed": "FAILED", ":retrying": "RETRYING", ":yes": true, ":no": false, ":now": now },
        },
      },
      this.deltaItem(messageId, { pendingRetries: -1 }, now),
    ]);
  }

  /** The plugin answered. Only an agent we sent to, and only once; a reply may beat our own SENT. */
  async markReplied(messageId: string, agentId: string, reply: string, now: number): Promise<"replied" | "duplicate" | "not_targeted"> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: commandPk(messageId), sk: agentSk(agentId) },
          UpdateExpression: "SET outcome = :replied, reply = :reply, replied_at = :now, updated_at = :now REMOVE code, message",
          ConditionExpression: "attribute_exists(sk) AND outcome IN (:pending, :sent, :retrying)",
          ExpressionAttributeValues: { ":replied": "REPLIED", ":reply": reply, ":now": now, ":pending": "PENDING", ":sent": "SENT", ":retrying": "RETRYING" },
        }),
      );
      return "replied";
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      return (await this.getAgent(messageId, agentId)) ? "duplicate" : "not_targeted";
    }
  }

  /** No reply within the command's timeout. */
  async markTimedOut(messageId: string, agentId: string, now: number): Promise<boolean> {
    return this.conditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: commandPk(messageId), sk: agentSk(agentId) },
        UpdateExpression: "SET outcome = :timedOut, updated_at = :now",
        ConditionExpression: "outcome IN (:pending, :sent)",
        ExpressionAttributeValues: { ":timedOut": "TIMED_OUT", ":pending": "PENDING", ":sent": "SENT", ":now": now },
      }),
    );
  }

  /** Every agent item of the command, a page at a time (projection keeps it small). */
  async *agentItems(messageId: string, projection = false): AsyncGenerator<AgentCommandItem[]> {
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
          ExpressionAttributeValues: { ":pk": commandPk(messageId), ":prefix": "agent#" },
          ...(projection
            ? { ProjectionExpression: "pk, sk, agent_id, #batch, outcome, attempts, #final, updated_at, retry_at, claimed_at, #ttl", ExpressionAttributeNames: { "#batch": "batch", "#final": "final", "#ttl": TTL } }
            : {}),
          ExclusiveStartKey: start,
        }),
      );
      yield (out.Items ?? []).map((item) => agentCommandItemSchema.parse(item));
      start = out.LastEvaluatedKey;
    } while (start);
  }

  /** One page of agent items, optionally of one stored outcome. */
  async agentPage(messageId: string, options: { limit: number; cursor: string | undefined; outcomes?: readonly AgentOutcome[] }): Promise<Page<AgentCommandItem>> {
    const pk = commandPk(messageId);
    const filter = options.outcomes && options.outcomes.length > 0 ? options.outcomes : undefined;
    return this.page(pk, agentCommandItemSchema, options, {
      KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
      ExpressionAttributeValues: { ":pk": pk, ":prefix": "agent#", ...(filter ? Object.fromEntries(filter.map((o, i) => [`:o${i}`, o])) : {}) },
      ...(filter ? { FilterExpression: `outcome IN (${filter.map((_, i) => `:o${i}`).join(", ")})` } : {}),
    });
  }

  // --- listing, upstream ----------------------------------------------------------------------

  async listCommands(options: { limit: number; cursor: string | undefined; status?: CommandStatus }): Promise<Page<IndexItem>> {
    return this.page(INDEX_PK, indexItemSchema, options, {
      KeyConditionExpression: "pk = :pk",
      ExpressionAttributeValues: { ":pk": INDEX_PK, ...(options.status ? { ":status": options.status } : {}) },
      ...(options.status ? { FilterExpression: "#status = :status", ExpressionAttributeNames: { "#status": "status" } } : {}),
      ScanIndexForward: false,
    });
  }

  async putUpstream(item: UpstreamItem): Promise<void> {
    await this.client.send(new PutCommand({ TableName: this.tableName, Item: item }));
  }

  async listUpstream(day: string, options: { limit: number; cursor: string | undefined }): Promise<Page<UpstreamItem>> {
    const pk = upstreamPk(day);
    return this.page(pk, upstreamItemSchema, options, { KeyConditionExpression: "pk = :pk", ExpressionAttributeValues: { ":pk": pk }, ScanIndexForward: false });
  }

  // --- helpers --------------------------------------------------------------------------------

  /**
   * One page of `limit` items of partition `pk`, from `cursor` on. A filter reads a page and may
   * keep little of it: read on until the page is full or the partition ends.
   */
  private async page<T>(
    pk: string,
    schema: z.ZodType<T>,
    options: { limit: number; cursor: string | undefined },
    query: Omit<QueryCommandInput, "TableName" | "Limit" | "ExclusiveStartKey">,
  ): Promise<Page<T>> {
    const items: T[] = [];
    let start = decodeKeyCursor(options.cursor, pk);
    do {
      const out = await this.client.send(new QueryCommand({ ...query, TableName: this.tableName, Limit: options.limit - items.length, ExclusiveStartKey: start }));
      for (const item of out.Items ?? []) items.push(schema.parse(item));
      start = out.LastEvaluatedKey;
    } while (start && items.length < options.limit);
    return { items, cursor: encodeKeyCursor(start) };
  }

  private failureItem(messageId: string, failure: AgentFailure, from: readonly AgentOutcome[], attempts: number, now: number) {
    const fromValues = Object.fromEntries(from.map((o, i) => [`:from${i}`, o]));
    return {
      Update: {
        TableName: this.tableName,
        Key: { pk: commandPk(messageId), sk: agentSk(failure.agentId) },
        UpdateExpression: "SET outcome = :failed, code = :code, message = :message, #final = :final, updated_at = :now",
        ConditionExpression: `attribute_exists(sk) AND outcome IN (${from.map((_, i) => `:from${i}`).join(", ")}) AND attempts = :attempts`,
        ExpressionAttributeNames: { "#final": "final" },
        ExpressionAttributeValues: { ":failed": "FAILED", ":code": failure.code, ":message": failure.message.slice(0, 500), ":final": failure.final, ":now": now, ":attempts": attempts, ...fromValues },
      },
    };
  }

  private deltaItem(messageId: string, delta: CommandDelta, now: number) {
    const update = deltaUpdate(delta, now);
    return {
      Update: {
        TableName: this.tableName,
        Key: { pk: commandPk(messageId), sk: "meta" },
        UpdateExpression: update.expression,
        ExpressionAttributeValues: update.values,
      },
    };
  }

  /** A conditional write: false when its condition failed (someone else got there first). */
  private async conditional(command: PutCommand | UpdateCommand): Promise<boolean> {
    try {
      // Two overloads of one send: the union has to be split for the type checker.
      if (command instanceof PutCommand) await this.client.send(command);
      else await this.client.send(command);
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  private async transactConditional(items: Parameters<CommandStore["transact"]>[0]): Promise<boolean> {
    try {
      await this.transact(items);
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /** A transaction; one that lost a race with another on the same item is tried again. */
  private async transact(items: NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]["TransactItems"]>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.client.send(new TransactWriteCommand({ TransactItems: items }));
        return;
      } catch (error) {
        if (!isTransactionConflict(error) || attempt >= this.retry.maxAttempts) throw error;
        await this.retry.sleep(Math.floor(this.retry.random() * Math.min(1_000, 20 * 2 ** attempt)));
      }
    }
  }
}

function deltaUpdate(delta: CommandDelta, now: number): { expression: string; values: Record<string, unknown> } {
  const adds: string[] = [];
  const values: Record<string, unknown> = { ":now": now };
  if (delta.errors) {
    adds.push("errors :errors");
    values[":errors"] = delta.errors;
  }
  if (delta.pendingRetries) {
    adds.push("pending_retries :retries");
    values[":retries"] = delta.pendingRetries;
  }
  if (delta.batchesDone) {
    adds.push("batches_done :batches");
    values[":batches"] = delta.batchesDone;
  }
  return { expression: `SET updated_at = :now${adds.length > 0 ? ` ADD ${adds.join(", ")}` : ""}`, values };
}
