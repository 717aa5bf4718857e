/**
 * Pending adds of the configs table: an add is recorded apart (`cfg#pending-add#<uuid>`, GSE
 * allocates the id) or beside its object (`add#<uuid>`, the id given) until GSE has taken it;
 * only then does it become the object's version, so a refused add never touches the object.
 */
import { GetCommand, PutCommand, QueryCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";
import { objectKey, type ObjectRef } from "./documents.ts";
import { ADD_SK_PREFIX, pendingAddItemSchema, type HeadItem, type PendingAddItem, type StoredError, type VersionItem } from "./items.ts";
import { assertRecordFits, objectPk, setFields, TTL, type PendingAddKey, type RecoveryOutcome } from "./table.ts";
import { VersionRecords } from "./versions-store.ts";

export class PendingAddRecords extends VersionRecords {
  async getPendingAdd(key: PendingAddKey): Promise<PendingAddItem | undefined> {
    const { Item } = await this.options.client.send(new GetCommand({ TableName: this.table, Key: { pk: key.pk, sk: key.sk }, ConsistentRead: true }));
    return Item ? pendingAddItemSchema.parse(Item) : undefined;
  }

  async putPendingAdd(key: PendingAddKey, fields: Omit<PendingAddItem, "pk" | "sk" | "status">, ttlSeconds: number): Promise<PendingAddItem> {
    const item = pendingAddItemSchema.parse({ ...fields, pk: key.pk, sk: key.sk, status: "PENDING", [TTL]: Math.floor(fields.created_at / 1000) + ttlSeconds });
    assertRecordFits(item);
    this.counter.writes += 1;
    await this.options.client.send(new PutCommand({ TableName: this.table, Item: item, ConditionExpression: "attribute_not_exists(pk)" }));
    return item;
  }

  async failPendingAdd(key: PendingAddKey, error: StoredError, allocatedId: number | undefined, now: number): Promise<boolean> {
    return this.failPending({ pk: key.pk, sk: key.sk }, error, now, allocatedId !== undefined ? { field: "allocated_id", value: allocatedId } : undefined);
  }

  /**
   * The add's object now exists: the pending record points to it, and the object gets its head,
   * version 0 (nothing was there) and version 1 APPLIED, in one transaction.
   */
  async completePendingAdd(key: PendingAddKey, pending: PendingAddItem, ref: ObjectRef, gseResponse: unknown, now: number): Promise<VersionItem> {
    const adoption = this.versionItem(ref, {
      version: 0,
      operation: "adopt",
      document: null,
      author: "gse-control",
      created_at: now,
      status: "APPLIED",
      applied_at: now,
    });
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
    const head: HeadItem = {
      pk: objectPk(ref),
      sk: "head",
      object: objectKey(ref),
      current_version: 1,
      last_good_version: 1,
      latest_version: 1,
      updated_at: now,
    };
    await this.transact(
      [
        {
          Update: {
            TableName: this.table,
            Key: { pk: key.pk, sk: key.sk },
            UpdateExpression: "SET #status = :applied, #object = :object, allocated_id = :id, gse_response = :response",
            ConditionExpression: "#status = :pending",
            ExpressionAttributeNames: { "#status": "status", "#object": "object" },
            ExpressionAttributeValues: {
              ":applied": "APPLIED",
              ":pending": "PENDING",
              ":object": objectKey(ref),
              ":id": ref.id,
              ":response": gseResponse ?? null,
            },
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
          ExpressionAttributeValues: {
            ":pending": "pending",
            ":add": ADD_SK_PREFIX,
            ":pendingStatus": "PENDING",
            ":failedStatus": "FAILED",
            ":before": before,
          },
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
}
