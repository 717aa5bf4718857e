/**
 * Heads and versions of the configs table: the head item (current, last good and pending
 * version) and each object's immutable versions. The head moves only inside a conditional
 * transaction, so two changes of one object can never both think they came after the same version.
 */
import { GetCommand, QueryCommand, ScanCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { OutboxEntry } from "../core/outbox.ts";
import type { ConfigAlert } from "./alerts.ts";
import { objectKey, type ConfigDocument, type ObjectRef } from "./documents.ts";
import { headItemSchema, versionItemSchema, type HeadItem, type StoredError, type VersionItem, type VersionStatus } from "./items.ts";
import {
  ConcurrentChangeError,
  ConfigTable,
  HEAD_SK,
  objectPk,
  setFields,
  versionSk,
  type AdoptedState,
  type NewVersion,
  type RecoveryOutcome,
  type TransactItems,
} from "./table.ts";

export class VersionRecords extends ConfigTable {
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
    const adoption = this.versionItem(ref, {
      version: 0,
      operation: "adopt",
      document: adopted,
      author: "gse-control",
      created_at: now,
      status: "APPLIED",
      applied_at: now,
    });
    const newHead: HeadItem = {
      pk: objectPk(ref),
      sk: "head",
      object: objectKey(ref),
      current_version: 0,
      last_good_version: 0,
      latest_version: item.version,
      pending_version: item.version,
      pending_since: now,
      updated_at: now,
    };
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
    await this.closeVersion(ref, version, {
      from: "PENDING",
      set: { status: "APPLIED", gse_response: gseResponse ?? null, applied_at: now },
      now,
      headTo: version,
    });
  }

  /** PENDING → FAILED; the head stays locked until recovery has undone it. False if not PENDING. */
  async markFailed(ref: ObjectRef, version: number, error: StoredError, now: number, gseResponse?: unknown): Promise<boolean> {
    return this.failPending(
      { pk: objectPk(ref), sk: versionSk(version) },
      error,
      now,
      gseResponse !== undefined ? { field: "gse_response", value: gseResponse } : undefined,
    );
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
  protected async closeVersion(
    ref: ObjectRef,
    version: number,
    change: { from: VersionStatus; set: Record<string, unknown>; now: number; adopted?: AdoptedState; headTo?: number },
  ): Promise<void> {
    const { now, adopted } = change;
    const set = setFields({ ...change.set, ...(adopted ? { adopted_version: version + 1 } : {}) });
    const items: TransactItems = [
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
        await this.transact([putVersion, this.advanceHead(ref, head, version, now)], objectKey(ref));
      } else {
        const newHead: HeadItem = {
          pk: objectPk(ref),
          sk: "head",
          object: objectKey(ref),
          current_version: 0,
          last_good_version: 0,
          latest_version: 0,
          updated_at: now,
        };
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

  /**
   * Marks the alert about `key`'s failure as raised, and writes it to the outbox in the same
   * transaction; false (neither written) if it already was. The outbox publishes it even if this
   * process dies next.
   */
  async markAlerted(key: { pk: string; sk: string }, now: number, entry: OutboxEntry<ConfigAlert>): Promise<boolean> {
    return this.updateWithAlert(
      {
        Key: key,
        UpdateExpression: "SET alerted_at = :now",
        ConditionExpression: "attribute_exists(pk) AND attribute_not_exists(alerted_at)",
        ExpressionAttributeValues: { ":now": now },
      },
      entry,
      now,
    );
  }

  /** Records a drift as alerted, its alert in the outbox with it; false when this very drift of this version already was. */
  async markDriftAlerted(ref: ObjectRef, version: number, signature: string, now: number, entry: OutboxEntry<ConfigAlert>): Promise<boolean> {
    return this.updateWithAlert(
      {
        Key: { pk: objectPk(ref), sk: HEAD_SK },
        UpdateExpression: "SET drift_signature = :sig, drift_alerted_at = :now",
        ConditionExpression: "current_version = :v AND (attribute_not_exists(drift_signature) OR drift_signature <> :sig)",
        ExpressionAttributeValues: { ":sig": `${version}:${signature}`, ":v": version, ":now": now },
      },
      entry,
      now,
    );
  }

  /** A conditional update and an alert's outbox item, in one transaction; false when the condition failed. */
  private async updateWithAlert(
    update: { Key: { pk: string; sk: string }; UpdateExpression: string; ConditionExpression: string; ExpressionAttributeValues: Record<string, unknown> },
    entry: OutboxEntry<ConfigAlert>,
    now: number,
  ): Promise<boolean> {
    this.counter.writes += 1;
    this.counter.transactions += 1;
    return (await this.outbox.putWith([{ Update: { TableName: this.table, ...update } }], entry, now)) !== undefined;
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
        new ScanCommand({
          TableName: this.table,
          FilterExpression: "sk = :head",
          ExpressionAttributeValues: { ":head": HEAD_SK },
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      heads.push(...(page.Items ?? []).map((item) => headItemSchema.parse(item)));
      start = page.LastEvaluatedKey;
    } while (start);
    return heads;
  }
}
