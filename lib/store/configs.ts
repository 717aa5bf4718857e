/**
 * The configs table (lib/resources.ts TABLES.configs): per configuration object a head item and
 * its immutable versions, plus records of adds whose id GSE has yet to allocate and idempotency
 * records. The head moves only inside a conditional transaction, so two changes of one object
 * can never both think they came after the same version.
 *
 *   pk = cfg#<kind>#<id>         sk = head        current/last good/pending version
 *   pk = cfg#<kind>#<id>         sk = v#<9 digits> one version
 *   pk = cfg#pending-add#<uuid>  sk = pending     an add waiting for its id (then points to it)
 *   pk = idem#<app>#<key>        sk = idem        the first answer to an idempotency key
 */
import {
  GetCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteCommand,
  UpdateCommand,
  PutCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
} from "@aws-sdk/lib-dynamodb";
import { z } from "zod";
import { configDocumentSchema, objectKey, type ConfigDocument, type ObjectRef } from "../config-versions/documents.ts";
import { TABLES } from "../resources.ts";
import { headItemSchema, storedErrorSchema, versionItemSchema, versionStatusSchema, type HeadItem, type StoredError, type VersionItem, type VersionStatus } from "./config-items.ts";

const TTL = TABLES.configs.ttlAttribute;

export {
  headItemSchema,
  storedErrorSchema,
  VERSION_STATUSES,
  versionItemSchema,
  versionStatusSchema,
  type HeadItem,
  type StoredError,
  type VersionItem,
  type VersionStatus,
} from "./config-items.ts";

/** An add whose id GSE allocates: it cannot live under its object until GSE has answered. */
export const pendingAddItemSchema = z.object({
  pk: z.string(),
  sk: z.literal("pending"),
  operation: z.enum(["add_streamto", "add_route"]),
  request: z.unknown(),
  document: configDocumentSchema,
  author: z.string(),
  created_at: z.number(),
  status: versionStatusSchema,
  object: z.string().optional(),
  allocated_id: z.int().optional(),
  gse_response: z.unknown().optional(),
  error: storedErrorSchema.optional(),
  idempotency_key: z.string().optional(),
  rolled_back_at: z.number().optional(),
  rollback_error: storedErrorSchema.optional(),
  alerted_at: z.number().optional(),
  [TTL]: z.int().optional(),
});
export type PendingAddItem = z.infer<typeof pendingAddItemSchema>;

export const idempotencyItemSchema = z.object({
  pk: z.string(),
  sk: z.literal("idem"),
  status: z.enum(["IN_PROGRESS", "DONE"]),
  request_hash: z.string(),
  /** The answer's `data`, or GSE's error to pass through again. */
  response: z.unknown().optional(),
  created_at: z.number(),
  [TTL]: z.int(),
});
export type IdempotencyItem = z.infer<typeof idempotencyItemSchema>;

export const objectPk = (ref: ObjectRef): string => `cfg#${objectKey(ref)}`;
export const versionSk = (version: number): string => `v#${String(version).padStart(9, "0")}`;
export const pendingAddPk = (id: string): string => `cfg#pending-add#${id}`;
export const HEAD_SK = "head";

/** A conditional write lost: another change of the same object got there first. */
export class ConcurrentChangeError extends Error {
  constructor(readonly ref: string, options?: { cause?: unknown }) {
    super(`another change of ${ref} is in progress or came first`, options);
    this.name = "ConcurrentChangeError";
  }
}

const isConditionFailure = (error: unknown): boolean =>
  error instanceof Error && (error.name === "TransactionCanceledException" || error.name === "ConditionalCheckFailedException");

/** DynamoDB writes made through one store, for the benchmark and for tests that count them. */
export interface WriteCounter {
  writes: number;
  transactions: number;
}

type NewVersion = Omit<VersionItem, "pk" | "sk" | "object" | "status"> & { status?: VersionStatus };

export class ConfigStore {
  readonly counter: WriteCounter = { writes: 0, transactions: 0 };

  constructor(private readonly options: { client: DynamoDBDocumentClient; tableName: string }) {}

  private get table(): string {
    return this.options.tableName;
  }

  private async transact(items: NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]["TransactItems"]>, ref: string): Promise<void> {
    this.counter.transactions += 1;
    this.counter.writes += items.length;
    try {
      await this.options.client.send(new TransactWriteCommand({ TransactItems: items }));
    } catch (error) {
      if (isConditionFailure(error)) throw new ConcurrentChangeError(ref, { cause: error });
      throw error;
    }
  }

  private async update(input: Omit<ConstructorParameters<typeof UpdateCommand>[0], "TableName">): Promise<boolean> {
    this.counter.writes += 1;
    try {
      await this.options.client.send(new UpdateCommand({ ...input, TableName: this.table }));
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async getHead(ref: ObjectRef): Promise<HeadItem | undefined> {
    const { Item } = await this.options.client.send(new GetCommand({ TableName: this.table, Key: { pk: objectPk(ref), sk: HEAD_SK }, ConsistentRead: true }));
    return Item ? headItemSchema.parse(Item) : undefined;
  }

  async getVersion(ref: ObjectRef, version: number): Promise<VersionItem | undefined> {
    const { Item } = await this.options.client.send(
      new GetCommand({ TableName: this.table, Key: { pk: objectPk(ref), sk: versionSk(version) }, ConsistentRead: true }),
    );
    return Item ? versionItemSchema.parse(Item) : undefined;
  }

  async getPendingAdd(id: string): Promise<PendingAddItem | undefined> {
    const { Item } = await this.options.client.send(new GetCommand({ TableName: this.table, Key: { pk: pendingAddPk(id), sk: "pending" }, ConsistentRead: true }));
    return Item ? pendingAddItemSchema.parse(Item) : undefined;
  }

  private versionItem(ref: ObjectRef, fields: NewVersion): VersionItem {
    return versionItemSchema.parse({ ...fields, pk: objectPk(ref), sk: versionSk(fields.version), object: objectKey(ref), status: fields.status ?? "PENDING" });
  }

  /**
   * Records `version` PENDING and locks the head on it, in one transaction conditioned on the head
   * being as read (`head`) with nothing pending. An object seen for the first time (`head`
   * undefined) gets version 0 first: what GSE held then (`adopted`, null when nothing), so a
   * rollback restores what existed before us instead of deleting it.
   */
  async claim(ref: ObjectRef, head: HeadItem | undefined, adopted: ConfigDocument, version: NewVersion, now: number): Promise<VersionItem> {
    const item = this.versionItem(ref, version);
    const putVersion = { Put: { TableName: this.table, Item: item, ConditionExpression: "attribute_not_exists(pk)" } };
    if (head) {
      await this.transact(
        [
          putVersion,
          {
            Update: {
              TableName: this.table,
              Key: { pk: objectPk(ref), sk: HEAD_SK },
              UpdateExpression: "SET pending_version = :v, latest_version = :v, pending_since = :now, updated_at = :now",
              ConditionExpression: "current_version = :cur AND latest_version = :latest AND attribute_not_exists(pending_version)",
              ExpressionAttributeValues: { ":v": item.version, ":cur": head.current_version, ":latest": head.latest_version, ":now": now },
            },
          },
        ],
        objectKey(ref),
      );
      return item;
    }
    const adoption = this.versionItem(ref, { version: 0, operation: "adopt", document: adopted, author: "gse-control", created_at: now, status: "APPLIED", applied_at: now });
    const newHead: HeadItem = { pk: objectPk(ref), sk: "head", object: objectKey(ref), current_version: 0, last_good_version: 0, latest_version: item.version, pending_version: item.version, pending_since: now, updated_at: now };
    await this.transact(
      [
        { Put: { TableName: this.table, Item: newHead, ConditionExpression: "attribute_not_exists(pk)" } },
        { Put: { TableName: this.table, Item: adoption, ConditionExpression: "attribute_not_exists(pk)" } },
        putVersion,
      ],
      objectKey(ref),
    );
    return item;
  }

  /** PENDING → APPLIED and the head moved to it (current and last good), in one transaction. */
  async markApplied(ref: ObjectRef, version: number, gseResponse: unknown, now: number): Promise<void> {
    await this.transact(
      [
        {
          Update: {
            TableName: this.table,
            Key: { pk: objectPk(ref), sk: versionSk(version) },
            UpdateExpression: "SET #status = :applied, gse_response = :response, applied_at = :now",
            ConditionExpression: "#status = :pending",
            ExpressionAttributeNames: { "#status": "status" },
            ExpressionAttributeValues: { ":applied": "APPLIED", ":pending": "PENDING", ":response": gseResponse ?? null, ":now": now },
          },
        },
        {
          Update: {
            TableName: this.table,
            Key: { pk: objectPk(ref), sk: HEAD_SK },
            UpdateExpression: "SET current_version = :v, last_good_version = :v, updated_at = :now REMOVE pending_version, pending_since",
            ConditionExpression: "pending_version = :v",
            ExpressionAttributeValues: { ":v": version, ":now": now },
          },
        },
      ],
      objectKey(ref),
    );
  }

  /** PENDING → FAILED; the head stays locked until recovery has rolled back. False if not PENDING. */
  async markFailed(ref: ObjectRef, version: number, error: StoredError, now: number, gseResponse?: unknown): Promise<boolean> {
    return this.update({
      Key: { pk: objectPk(ref), sk: versionSk(version) },
      UpdateExpression: `SET #status = :failed, #error = :error, failed_at = :now${gseResponse !== undefined ? ", gse_response = :response" : ""}`,
      ConditionExpression: "#status = :pending",
      ExpressionAttributeNames: { "#status": "status", "#error": "error" },
      ExpressionAttributeValues: { ":failed": "FAILED", ":pending": "PENDING", ":error": error, ":now": now, ...(gseResponse !== undefined ? { ":response": gseResponse } : {}) },
    });
  }

  /**
   * FAILED → ROLLED_BACK | ROLLBACK_FAILED, and the head unlocked, in one transaction. The
   * condition on FAILED makes a re-delivered stream record find nothing left to do.
   */
  async finishRollback(ref: ObjectRef, version: number, outcome: { status: "ROLLED_BACK" | "ROLLBACK_FAILED"; error?: StoredError }, now: number): Promise<void> {
    await this.transact(
      [
        {
          Update: {
            TableName: this.table,
            Key: { pk: objectPk(ref), sk: versionSk(version) },
            UpdateExpression: `SET #status = :status, rolled_back_at = :now${outcome.error ? ", rollback_error = :error" : ""}`,
            ConditionExpression: "#status = :failed",
            ExpressionAttributeNames: { "#status": "status" },
            ExpressionAttributeValues: { ":status": outcome.status, ":failed": "FAILED", ":now": now, ...(outcome.error ? { ":error": outcome.error } : {}) },
          },
        },
        {
          Update: {
            TableName: this.table,
            Key: { pk: objectPk(ref), sk: HEAD_SK },
            UpdateExpression: "SET updated_at = :now REMOVE pending_version, pending_since",
            ConditionExpression: "pending_version = :v",
            ExpressionAttributeValues: { ":v": version, ":now": now },
          },
        },
      ],
      objectKey(ref),
    );
  }

  /** Marks the alert about `key`'s failure as sent; false if it already was. */
  async markAlerted(key: { pk: string; sk: string }, now: number): Promise<boolean> {
    return this.update({
      Key: key,
      UpdateExpression: "SET alerted_at = :now",
      ConditionExpression: "attribute_exists(pk) AND attribute_not_exists(alerted_at)",
      ExpressionAttributeValues: { ":now": now },
    });
  }

  /** Records a drift as alerted; false when this very drift of this version already was. */
  async markDriftAlerted(ref: ObjectRef, version: number, signature: string, now: number): Promise<boolean> {
    return this.update({
      Key: { pk: objectPk(ref), sk: HEAD_SK },
      UpdateExpression: "SET drift_signature = :sig, drift_alerted_at = :now",
      ConditionExpression: "current_version = :v AND (attribute_not_exists(drift_signature) OR drift_signature <> :sig)",
      ExpressionAttributeValues: { ":sig": `${version}:${signature}`, ":v": version, ":now": now },
    });
  }

  /** Undoes markAlerted when the alert could not be sent, so a retry of the record sends it. */
  async releaseAlerted(key: { pk: string; sk: string }): Promise<void> {
    await this.update({ Key: key, UpdateExpression: "REMOVE alerted_at" });
  }

  async putPendingAdd(id: string, fields: Omit<PendingAddItem, "pk" | "sk" | "status">, ttlSeconds: number): Promise<PendingAddItem> {
    const item = pendingAddItemSchema.parse({ ...fields, pk: pendingAddPk(id), sk: "pending", status: "PENDING", [TTL]: Math.floor(fields.created_at / 1000) + ttlSeconds });
    this.counter.writes += 1;
    await this.options.client.send(new PutCommand({ TableName: this.table, Item: item, ConditionExpression: "attribute_not_exists(pk)" }));
    return item;
  }

  async failPendingAdd(id: string, error: StoredError, allocatedId: number | undefined, now: number): Promise<boolean> {
    return this.update({
      Key: { pk: pendingAddPk(id), sk: "pending" },
      UpdateExpression: `SET #status = :failed, #error = :error, failed_at = :now${allocatedId !== undefined ? ", allocated_id = :id" : ""}`,
      ConditionExpression: "#status = :pending",
      ExpressionAttributeNames: { "#status": "status", "#error": "error" },
      ExpressionAttributeValues: { ":failed": "FAILED", ":pending": "PENDING", ":error": error, ":now": now, ...(allocatedId !== undefined ? { ":id": allocatedId } : {}) },
    });
  }

  /**
   * The add's object now exists: the pending record points to it, and the object gets its head,
   * version 0 (nothing was there) and version 1 APPLIED, in one transaction.
   */
  async completePendingAdd(id: string, pending: PendingAddItem, ref: ObjectRef, gseResponse: unknown, now: number): Promise<VersionItem> {
    const adoption = this.versionItem(ref, { version: 0, operation: "adopt", document: null, author: "gse-control", created_at: now, status: "APPLIED", applied_at: now });
    const first = this.versionItem(ref, {
      version: 1,
      operation: pending.operation,
      request: pending.request,
      document: pending.document,
      author: pending.author,
      created_at: pending.created_at,
      parent_version: 0,
      status: "APPLIED",
      gse_response: gseResponse ?? null,
      allocated_id: ref.id,
      applied_at: now,
      ...(pending.idempotency_key ? { idempotency_key: pending.idempotency_key } : {}),
    });
    const head: HeadItem = { pk: objectPk(ref), sk: "head", object: objectKey(ref), current_version: 1, last_good_version: 1, latest_version: 1, updated_at: now };
    await this.transact(
      [
        {
          Update: {
            TableName: this.table,
            Key: { pk: pendingAddPk(id), sk: "pending" },
            UpdateExpression: "SET #status = :applied, #object = :object, allocated_id = :id, gse_response = :response",
            ConditionExpression: "#status = :pending",
            ExpressionAttributeNames: { "#status": "status", "#object": "object" },
            ExpressionAttributeValues: { ":applied": "APPLIED", ":pending": "PENDING", ":object": objectKey(ref), ":id": ref.id, ":response": gseResponse ?? null },
          },
        },
        { Put: { TableName: this.table, Item: head, ConditionExpression: "attribute_not_exists(pk)" } },
        { Put: { TableName: this.table, Item: adoption, ConditionExpression: "attribute_not_exists(pk)" } },
        { Put: { TableName: this.table, Item: first, ConditionExpression: "attribute_not_exists(pk)" } },
      ],
      objectKey(ref),
    );
    return first;
  }

  /** A failed pending add: FAILED → ROLLED_BACK | ROLLBACK_FAILED (no head to unlock). */
  async finishPendingAddRollback(id: string, outcome: { status: "ROLLED_BACK" | "ROLLBACK_FAILED"; error?: StoredError }, now: number): Promise<boolean> {
    return this.update({
      Key: { pk: pendingAddPk(id), sk: "pending" },
      UpdateExpression: `SET #status = :status, rolled_back_at = :now${outcome.error ? ", rollback_error = :error" : ""}`,
      ConditionExpression: "#status = :failed",
      ExpressionAttributeNames: { "#status": "status" },
      ExpressionAttributeValues: { ":status": outcome.status, ":failed": "FAILED", ":now": now, ...(outcome.error ? { ":error": outcome.error } : {}) },
    });
  }

  /** Versions of one object, newest first, `limit` at a time; `cursor` is the last page's `next`. */
  async listVersions(ref: ObjectRef, limit: number, cursor?: number): Promise<{ items: VersionItem[]; next: number | undefined }> {
    if (cursor !== undefined && cursor <= 0) return { items: [], next: undefined };
    const { Items = [], LastEvaluatedKey } = await this.options.client.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: cursor === undefined ? "pk = :pk AND begins_with(sk, :v)" : "pk = :pk AND sk BETWEEN :v AND :before",
        ExpressionAttributeValues: { ":pk": objectPk(ref), ":v": "v#", ...(cursor !== undefined ? { ":before": versionSk(Math.max(0, cursor - 1)) } : {}) },
        ScanIndexForward: false,
        Limit: limit,
        ConsistentRead: true,
      }),
    );
    const items = Items.map((item) => versionItemSchema.parse(item));
    const last = items[items.length - 1];
    // A cursor of the version to continue below; version 0 is the last there can be.
    const next = LastEvaluatedKey && last && last.version > 0 ? last.version : undefined;
    return { items, next };
  }

  /** Every head, for the scheduled checks (stuck pending, drift). A scan: fine for thousands of objects. */
  async allHeads(): Promise<HeadItem[]> {
    const heads: HeadItem[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.options.client.send(
        new ScanCommand({ TableName: this.table, FilterExpression: "sk = :head", ExpressionAttributeValues: { ":head": HEAD_SK }, ...(start ? { ExclusiveStartKey: start } : {}) }),
      );
      heads.push(...(page.Items ?? []).map((item) => headItemSchema.parse(item)));
      start = page.LastEvaluatedKey;
    } while (start);
    return heads;
  }

  /** Pending adds still PENDING that were created before `before` (ms): their process died. */
  async stalePendingAdds(before: number): Promise<PendingAddItem[]> {
    const items: PendingAddItem[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.options.client.send(
        new ScanCommand({
          TableName: this.table,
          FilterExpression: "sk = :pending AND #status = :pendingStatus AND created_at < :before",
          ExpressionAttributeNames: { "#status": "status" },
          ExpressionAttributeValues: { ":pending": "pending", ":pendingStatus": "PENDING", ":before": before },
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      items.push(...(page.Items ?? []).map((item) => pendingAddItemSchema.parse(item)));
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  }

  /**
   * An add GSE allocated an id for that we knew before (an object deleted since, its id reused):
   * the add becomes the next version of that object, conditioned on its head as read.
   */
  async appendAllocatedAdd(id: string, pending: PendingAddItem, ref: ObjectRef, head: HeadItem, gseResponse: unknown, now: number): Promise<void> {
    const version = head.latest_version + 1;
    const item = this.versionItem(ref, {
      version,
      operation: pending.operation,
      request: pending.request,
      document: pending.document,
      author: pending.author,
      created_at: pending.created_at,
      parent_version: head.current_version,
      status: "APPLIED",
      gse_response: gseResponse ?? null,
      allocated_id: ref.id,
      applied_at: now,
    });
    await this.transact(
      [
        {
          Update: {
            TableName: this.table,
            Key: { pk: pendingAddPk(id), sk: "pending" },
            UpdateExpression: "SET #status = :applied, #object = :object, allocated_id = :id",
            ConditionExpression: "#status = :pending",
            ExpressionAttributeNames: { "#status": "status", "#object": "object" },
            ExpressionAttributeValues: { ":applied": "APPLIED", ":pending": "PENDING", ":object": objectKey(ref), ":id": ref.id },
          },
        },
        { Put: { TableName: this.table, Item: item, ConditionExpression: "attribute_not_exists(pk)" } },
        {
          Update: {
            TableName: this.table,
            Key: { pk: objectPk(ref), sk: HEAD_SK },
            UpdateExpression: "SET current_version = :v, last_good_version = :v, latest_version = :v, updated_at = :now",
            ConditionExpression: "current_version = :cur AND latest_version = :latest AND attribute_not_exists(pending_version)",
            ExpressionAttributeValues: { ":v": version, ":cur": head.current_version, ":latest": head.latest_version, ":now": now },
          },
        },
      ],
      objectKey(ref),
    );
  }

  // --- idempotency --------------------------------------------------------------------------

  /**
   * Claims an idempotency key for a request. Answers the record already there instead when the
   * key was used before and has not expired.
   */
  async claimIdempotency(pk: string, requestHash: string, now: number, ttlSeconds: number, abandonedAfterMs: number): Promise<IdempotencyItem | undefined> {
    const item: IdempotencyItem = { pk, sk: "idem", status: "IN_PROGRESS", request_hash: requestHash, created_at: now, [TTL]: Math.floor(now / 1000) + ttlSeconds };
    this.counter.writes += 1;
    try {
      await this.options.client.send(
        new PutCommand({
          TableName: this.table,
          Item: item,
          // TTL deletion lags by up to days: an expired record counts as absent. One left
          // IN_PROGRESS by a process that died counts as absent once it is older than a change can run.
          ConditionExpression: "attribute_not_exists(pk) OR #ttl < :nowSeconds OR (#status = :inProgress AND created_at < :abandoned)",
          ExpressionAttributeNames: { "#ttl": TTL, "#status": "status" },
          ExpressionAttributeValues: { ":nowSeconds": Math.floor(now / 1000), ":inProgress": "IN_PROGRESS", ":abandoned": now - abandonedAfterMs },
        }),
      );
      return undefined;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
    const { Item } = await this.options.client.send(new GetCommand({ TableName: this.table, Key: { pk, sk: "idem" }, ConsistentRead: true }));
    return Item ? idempotencyItemSchema.parse(Item) : undefined;
  }

  async completeIdempotency(pk: string, response: unknown): Promise<void> {
    await this.update({
      Key: { pk, sk: "idem" },
      UpdateExpression: "SET #status = :done, #response = :response",
      ExpressionAttributeNames: { "#status": "status", "#response": "response" },
      ExpressionAttributeValues: { ":done": "DONE", ":response": response ?? null },
    });
  }

  /** Frees a key whose request failed before anything was recorded, so a retry may run. */
  async releaseIdempotency(pk: string): Promise<void> {
    this.counter.writes += 1;
    await this.options.client.send(new DeleteCommand({ TableName: this.table, Key: { pk, sk: "idem" } }));
  }
}
