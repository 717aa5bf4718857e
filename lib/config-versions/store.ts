/**
 * The configs table (lib/resources.ts TABLES.configs): per configuration object a head item and
 * its immutable versions, plus records of adds whose id GSE has yet to allocate and idempotency
 * records. The head moves only inside a conditional transaction, so two changes of one object
 * can never both think they came after the same version.
 *
 *   pk = cfg#<kind>#<id>         sk = head        current/last good/pending version
 *   pk = cfg#<kind>#<id>         sk = v#<9 digits> one version
 *   pk = cfg#pending-add#<uuid>  sk = pending     an add waiting for its id (then points to it)
 *   pk = cfg#<kind>#<id>         sk = add#<uuid>   an add of that very id (add_route with channel_id):
 *                                                  kept beside the object, not as its version, until
 *                                                  GSE took it (a refused add never touches the object)
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
import { isCancelledOrConditionFailure } from "../dynamo/conditions.ts";
import { objectKey, type ConfigDocument, type ObjectRef } from "./documents.ts";
import { TABLES } from "../resources.ts";
import {
  ADD_SK_PREFIX,
  headItemSchema,
  pendingAddItemSchema,
  versionItemSchema,
  type Adoption,
  type HeadItem,
  type PendingAddItem,
  type StoredError,
  type VersionItem,
  type VersionStatus,
} from "./items.ts";

const TTL = TABLES.configs.ttlAttribute;

export {
  adoptionSchema,
  headItemSchema,
  isPendingAddSk,
  pendingAddItemSchema,
  storedErrorSchema,
  VERSION_STATUSES,
  versionItemSchema,
  versionStatusSchema,
  type Adoption,
  type HeadItem,
  type PendingAddItem,
  type StoredError,
  type VersionItem,
  type VersionStatus,
} from "./items.ts";

export const objectPk = (ref: ObjectRef): string => `cfg#${objectKey(ref)}`;
export const versionSk = (version: number): string => `v#${String(version).padStart(9, "0")}`;
export const pendingAddPk = (id: string): string => `cfg#pending-add#${id}`;
export const HEAD_SK = "head";

/** Where an add is recorded until GSE has taken it: apart when GSE allocates the id, beside the object when the id is given. */
export interface PendingAddKey {
  readonly pk: string;
  readonly sk: string;
}
export const pendingAddKey = (id: string, ref?: ObjectRef): PendingAddKey =>
  ref === undefined ? { pk: pendingAddPk(id), sk: "pending" } : { pk: objectPk(ref), sk: `${ADD_SK_PREFIX}${id}` };

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

/** How a version or a pending add ended when recovery was done with it. */
export interface RecoveryOutcome {
  readonly status: "ROLLED_BACK" | "ROLLBACK_FAILED";
  readonly error?: StoredError;
  /** GSE writes recovery sent (0: nothing of the change was left in GSE to undo). */
  readonly writes?: number;
}

/** What GSE was found holding instead, recorded as the object's next version (`adopt`). */
export interface AdoptedState {
  readonly document: ConfigDocument;
  readonly adoption: Adoption;
}

/** A conditional write lost: another change of the same object got there first. */
export class ConcurrentChangeError extends Error {
  constructor(readonly ref: string, options?: { cause?: unknown }) {
    super(`another change of ${ref} is in progress or came first`, options);
    this.name = "ConcurrentChangeError";
  }
}

/**
 * `SET` of each field to its value, with placeholder names and values, for an UpdateExpression:
 * field names are the items' own, so none can clash with DynamoDB's reserved words.
 */
function setFields(fields: Readonly<Record<string, unknown>>): { expression: string; names: Record<string, string>; values: Record<string, unknown> } {
  const entries = Object.entries(fields);
  return {
    expression: entries.map((_, i) => `#f${i} = :f${i}`).join(", "),
    names: Object.fromEntries(entries.map(([name], i) => [`#f${i}`, name])),
    values: Object.fromEntries(entries.map(([, value], i) => [`:f${i}`, value])),
  };
}

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
      if (isCancelledOrConditionFailure(error)) throw new ConcurrentChangeError(ref, { cause: error });
      throw error;
    }
  }

  private async update(input: Omit<ConstructorParameters<typeof UpdateCommand>[0], "TableName">): Promise<boolean> {
    this.counter.writes += 1;
    try {
      await this.options.client.send(new UpdateCommand({ ...input, TableName: this.table }));
      return true;
    } catch (error) {
      if (isCancelledOrConditionFailure(error)) return false;
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

  async getPendingAdd(key: PendingAddKey): Promise<PendingAddItem | undefined> {
    const { Item } = await this.options.client.send(new GetCommand({ TableName: this.table, Key: { pk: key.pk, sk: key.sk }, ConsistentRead: true }));
    return Item ? pendingAddItemSchema.parse(Item) : undefined;
  }

  private versionItem(ref: ObjectRef, fields: NewVersion): VersionItem {
    return versionItemSchema.parse({ ...fields, pk: objectPk(ref), sk: versionSk(fields.version), object: objectKey(ref), status: fields.status ?? "PENDING" });
  }

  /**
   * Records `version` PENDING and locks the head on it, in one transaction conditioned on the head
   * being as read (`head`) with nothing pending. An object seen for the first time (`head`
   * undefined) gets version 0 first: what GSE held then (`adopted`, null when nothing), so a
   * undo or a roll-back-to-0 restores what existed before us instead of deleting it.
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
    await this.closeVersion(ref, version, { from: "PENDING", set: { status: "APPLIED", gse_response: gseResponse ?? null, applied_at: now }, now, headTo: version });
  }

  /** PENDING → FAILED; the head stays locked until recovery has undone it. False if not PENDING. */
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
   * PENDING → REJECTED (GSE refused the change or never got it: nothing changed) and the head
   * released, in one transaction; the head's current version stays. With `adopted`, what GSE was
   * found holding (the object gone) becomes the next version and the head moves to it.
   */
  async markRejected(ref: ObjectRef, version: number, error: StoredError, now: number, adopted?: AdoptedState): Promise<void> {
    await this.closeVersion(ref, version, {
      from: "PENDING",
      set: { status: "REJECTED", error, rejected_at: now },
      now,
      ...(adopted ? { adopted } : {}),
    });
  }

  /**
   * FAILED → ROLLED_BACK | ROLLBACK_FAILED, and the head unlocked, in one transaction. The
   * condition on FAILED makes a re-delivered stream record find nothing left to do. With
   * `adopted`, what GSE was found holding instead becomes the next version and the head moves to it.
   */
  async finishUndo(ref: ObjectRef, version: number, outcome: RecoveryOutcome, now: number, adopted?: AdoptedState): Promise<void> {
    await this.closeVersion(ref, version, {
      from: "FAILED",
      set: {
        status: outcome.status,
        rolled_back_at: now,
        ...(outcome.error ? { rollback_error: outcome.error } : {}),
        ...(outcome.writes !== undefined ? { rollback_writes: outcome.writes } : {}),
      },
      now,
      ...(adopted ? { adopted } : {}),
    });
  }

  /**
   * Ends the version that holds the head's lock: its status (conditioned on `from`) and the head
   * unlocked, plus, with `adopted`, an `adopt` version after it that the head moves to. The lock
   * means no other version can have been numbered since, so the adopt version is the next number.
   */
  private async closeVersion(
    ref: ObjectRef,
    version: number,
    change: { from: VersionStatus; set: Record<string, unknown>; now: number; adopted?: AdoptedState; headTo?: number },
  ): Promise<void> {
    const { now, adopted } = change;
    const set = setFields({ ...change.set, ...(adopted ? { adopted_version: version + 1 } : {}) });
    const items: NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]["TransactItems"]> = [
      {
        Update: {
          TableName: this.table,
          Key: { pk: objectPk(ref), sk: versionSk(version) },
          UpdateExpression: `SET ${set.expression}`,
          ConditionExpression: "#status = :from",
          ExpressionAttributeNames: { "#status": "status", ...set.names },
          ExpressionAttributeValues: { ":from": change.from, ...set.values },
        },
      },
    ];
    // The head moves to the applied version, to the adopt version after it, or stays where it was.
    const moveTo = adopted ? version + 1 : change.headTo;
    if (adopted) {
      const adoptItem = this.versionItem(ref, {
        version: version + 1,
        operation: "adopt",
        document: adopted.document,
        author: "gse-control",
        created_at: now,
        parent_version: version,
        status: "APPLIED",
        applied_at: now,
        adoption: adopted.adoption,
      });
      items.push({ Put: { TableName: this.table, Item: adoptItem, ConditionExpression: "attribute_not_exists(pk)" } });
    }
    items.push({
      Update: {
        TableName: this.table,
        Key: { pk: objectPk(ref), sk: HEAD_SK },
        UpdateExpression: `SET ${moveTo !== undefined ? "current_version = :to, last_good_version = :to, " : ""}${adopted ? "latest_version = :to, " : ""}updated_at = :now REMOVE pending_version, pending_since`,
        // An adopt version takes the next number: nothing can have been numbered while the lock was held.
        ConditionExpression: adopted ? "pending_version = :v AND latest_version = :v" : "pending_version = :v",
        ExpressionAttributeValues: { ":v": version, ":now": now, ...(moveTo !== undefined ? { ":to": moveTo } : {}) },
      },
    });
    await this.transact(items, objectKey(ref));
  }

  /** An unlocked head moved straight to `version` (appended outside a claim), conditioned on the head as read. */
  private advanceHead(ref: ObjectRef, head: HeadItem, version: number, now: number) {
    return {
      Update: {
        TableName: this.table,
        Key: { pk: objectPk(ref), sk: HEAD_SK },
        UpdateExpression: "SET current_version = :v, last_good_version = :v, latest_version = :v, updated_at = :now",
        ConditionExpression: "current_version = :cur AND latest_version = :latest AND attribute_not_exists(pending_version)",
        ExpressionAttributeValues: { ":v": version, ":cur": head.current_version, ":latest": head.latest_version, ":now": now },
      },
    };
  }

  /**
   * What GSE holds, recorded as the object's next version (`adopt`) outside any change: a failed
   * add found another client's object under its id. Conditioned on the head as read (`head`
   * undefined: the object is new to us and gets its head and version 0). False if the object is
   * being changed right now (its own change will read GSE anyway).
   */
  async adoptObserved(ref: ObjectRef, head: HeadItem | undefined, adopted: AdoptedState, now: number): Promise<number | undefined> {
    const version = head ? head.latest_version + 1 : 0;
    const item = this.versionItem(ref, {
      version,
      operation: "adopt",
      document: adopted.document,
      author: "gse-control",
      created_at: now,
      ...(head ? { parent_version: head.current_version } : {}),
      status: "APPLIED",
      applied_at: now,
      adoption: adopted.adoption,
    });
    const putVersion = { Put: { TableName: this.table, Item: item, ConditionExpression: "attribute_not_exists(pk)" } };
    try {
      if (head) {
        await this.transact(
          [
            putVersion,
            this.advanceHead(ref, head, version, now),
          ],
          objectKey(ref),
        );
      } else {
        const newHead: HeadItem = { pk: objectPk(ref), sk: "head", object: objectKey(ref), current_version: 0, last_good_version: 0, latest_version: 0, updated_at: now };
        await this.transact([{ Put: { TableName: this.table, Item: newHead, ConditionExpression: "attribute_not_exists(pk)" } }, putVersion], objectKey(ref));
      }
      return version;
    } catch (error) {
      if (error instanceof ConcurrentChangeError) return undefined;
      throw error;
    }
  }

  /**
   * One more recovery pass that could not finish (GSE unreachable, a read that kept failing):
   * counted on the item, with its error. Answers how many there have been.
   */
  async countRecoveryAttempt(key: { pk: string; sk: string }, error: StoredError, now: number): Promise<number> {
    this.counter.writes += 1;
    const { Attributes } = await this.options.client.send(
      new UpdateCommand({
        TableName: this.table,
        Key: key,
        UpdateExpression: "ADD recovery_attempts :one SET recovery_error = :error, recovery_attempted_at = :now",
        ConditionExpression: "attribute_exists(pk)",
        ExpressionAttributeValues: { ":one": 1, ":error": error, ":now": now },
        ReturnValues: "UPDATED_NEW",
      }),
    );
    return Number(Attributes?.recovery_attempts ?? 1);
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

  async putPendingAdd(key: PendingAddKey, fields: Omit<PendingAddItem, "pk" | "sk" | "status">, ttlSeconds: number): Promise<PendingAddItem> {
    const item = pendingAddItemSchema.parse({ ...fields, pk: key.pk, sk: key.sk, status: "PENDING", [TTL]: Math.floor(fields.created_at / 1000) + ttlSeconds });
    this.counter.writes += 1;
    await this.options.client.send(new PutCommand({ TableName: this.table, Item: item, ConditionExpression: "attribute_not_exists(pk)" }));
    return item;
  }

  async failPendingAdd(key: PendingAddKey, error: StoredError, allocatedId: number | undefined, now: number): Promise<boolean> {
    return this.update({
      Key: { pk: key.pk, sk: key.sk },
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
  async completePendingAdd(key: PendingAddKey, pending: PendingAddItem, ref: ObjectRef, gseResponse: unknown, now: number): Promise<VersionItem> {
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
            Key: { pk: key.pk, sk: key.sk },
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
  async finishPendingAddUndo(key: PendingAddKey, outcome: RecoveryOutcome, now: number, adoptedVersion?: number): Promise<boolean> {
    const set = setFields({
      status: outcome.status,
      rolled_back_at: now,
      ...(outcome.error ? { rollback_error: outcome.error } : {}),
      ...(outcome.writes !== undefined ? { rollback_writes: outcome.writes } : {}),
      ...(adoptedVersion !== undefined ? { adopted_version: adoptedVersion } : {}),
    });
    return this.update({
      Key: { pk: key.pk, sk: key.sk },
      UpdateExpression: `SET ${set.expression}`,
      ConditionExpression: "#status = :failed",
      ExpressionAttributeNames: { "#status": "status", ...set.names },
      ExpressionAttributeValues: { ":failed": "FAILED", ...set.values },
    });
  }

  /** PENDING → REJECTED: GSE refused the add (or never got it); nothing was made, no object touched. */
  async rejectPendingAdd(key: PendingAddKey, error: StoredError, now: number): Promise<boolean> {
    return this.update({
      Key: { pk: key.pk, sk: key.sk },
      UpdateExpression: "SET #status = :rejected, #error = :error, rejected_at = :now",
      ConditionExpression: "#status = :pending",
      ExpressionAttributeNames: { "#status": "status", "#error": "error" },
      ExpressionAttributeValues: { ":rejected": "REJECTED", ":pending": "PENDING", ":error": error, ":now": now },
    });
  }

  /** Adds of this object's own id that did not become a version (refused, failed), newest first; kept for a week. */
  async listAddAttempts(ref: ObjectRef, limit: number): Promise<PendingAddItem[]> {
    const { Items = [] } = await this.options.client.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: "pk = :pk AND begins_with(sk, :add)",
        FilterExpression: "#status <> :applied",
        ExpressionAttributeNames: { "#status": "status" },
        ExpressionAttributeValues: { ":pk": objectPk(ref), ":add": ADD_SK_PREFIX, ":applied": "APPLIED" },
        ConsistentRead: true,
      }),
    );
    return Items.map((item) => pendingAddItemSchema.parse(item))
      .sort((a, b) => b.created_at - a.created_at)
      .slice(0, limit);
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

  /**
   * Pending adds still PENDING or FAILED that were created before `before` (ms): PENDING ones
   * belong to a process that died; FAILED ones to a recovery that may have given up retrying.
   */
  async stalePendingAdds(before: number): Promise<PendingAddItem[]> {
    const items: PendingAddItem[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.options.client.send(
        new ScanCommand({
          TableName: this.table,
          FilterExpression: "(sk = :pending OR begins_with(sk, :add)) AND #status IN (:pendingStatus, :failedStatus) AND created_at < :before",
          ExpressionAttributeNames: { "#status": "status" },
          ExpressionAttributeValues: { ":pending": "pending", ":add": ADD_SK_PREFIX, ":pendingStatus": "PENDING", ":failedStatus": "FAILED", ":before": before },
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
  async appendAllocatedAdd(key: PendingAddKey, pending: PendingAddItem, ref: ObjectRef, head: HeadItem, gseResponse: unknown, now: number): Promise<void> {
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
            Key: { pk: key.pk, sk: key.sk },
            UpdateExpression: "SET #status = :applied, #object = :object, allocated_id = :id",
            ConditionExpression: "#status = :pending",
            ExpressionAttributeNames: { "#status": "status", "#object": "object" },
            ExpressionAttributeValues: { ":applied": "APPLIED", ":pending": "PENDING", ":object": objectKey(ref), ":id": ref.id },
          },
        },
        { Put: { TableName: this.table, Item: item, ConditionExpression: "attribute_not_exists(pk)" } },
        this.advanceHead(ref, head, version, now),
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
      if (!isCancelledOrConditionFailure(error)) throw error;
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
