/**
 * What every record kind of the configs table shares: its keys, the write helpers (conditional
 * transaction, conditional update, both counted) and the version item builder. The record kinds
 * build on it in layers: versions-store.ts (heads and versions), pending-adds-store.ts, then
 * store.ts (idempotency records), whose ConfigStore is the one object callers hold.
 */
import { TransactWriteCommand, UpdateCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { ItemTooLargeError } from "../core/errors.ts";
import { Outbox } from "../core/outbox.ts";
import { isCancelledOrConditionFailure } from "../dynamo/conditions.ts";
import { biggestField, DYNAMODB_ITEM_LIMIT_BYTES, itemSize } from "../dynamo/item-size.ts";
import type { ConfigOperation } from "../gse/config-apply.ts";
import { nextDocument, objectKey, type ConfigDocument, type ObjectRef } from "./documents.ts";
import { TABLES } from "../resources.ts";
import { ADD_SK_PREFIX, versionItemSchema, type Adoption, type HeadItem, type StoredError, type VersionItem, type VersionStatus } from "./items.ts";

/** The attribute DynamoDB expires pending-add and idempotency records by. */
export const TTL = TABLES.configs.ttlAttribute;

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

/**
 * Room kept in a version or pending-add item for what later writes add to it (status, GSE's
 * answer, errors, timestamps, recovery fields): a record that fits when written must still fit then.
 */
export const RECORD_HEADROOM_BYTES = 16 * 1024;
export const MAX_RECORD_BYTES = DYNAMODB_ITEM_LIMIT_BYTES - RECORD_HEADROOM_BYTES;

/**
 * A version or pending-add record must fit in one item: if not, 413 naming the field to shrink.
 * The body is recorded twice (as `request` and in the `document` it makes), so when the request is
 * a large part of the record the field is named in the body's own terms (`specification.route`);
 * otherwise it is the document's (`document.route`: the channel's routes together).
 */
export function assertRecordFits(record: Readonly<Record<string, unknown>>): void {
  const bytes = itemSize(record);
  if (bytes <= MAX_RECORD_BYTES) return;
  const requestBytes = itemSize({ request: record.request });
  const field = requestBytes * 3 >= bytes ? biggestField(record.request) : biggestField(record);
  const name = field.path === "" ? "(body)" : field.path;
  throw new ItemTooLargeError(
    `the change would be recorded in ${bytes} bytes (the body and the document it makes); at most ${MAX_RECORD_BYTES} fit in one version: ${name} is ${field.bytes} bytes`,
    { field: name, field_bytes: field.bytes, record_bytes: bytes, limit_bytes: MAX_RECORD_BYTES },
  );
}

/**
 * Before anything is read or written: whether the record of this change could fit at all. Its
 * document here is what the body alone makes; a change that also carries an object's earlier
 * routes is checked again, with them, when its version is built.
 */
export function assertChangeFits(name: ConfigOperation, body: unknown): void {
  assertRecordFits({ request: body, document: nextDocument(name, body, null) });
}

/** A conditional write lost: another change of the same object got there first. */
export class ConcurrentChangeError extends Error {
  constructor(
    readonly ref: string,
    options?: { cause?: unknown },
  ) {
    super(`another change of ${ref} is in progress or came first`, options);
    this.name = "ConcurrentChangeError";
  }
}

/**
 * `SET` of each field to its value, with placeholder names and values, for an UpdateExpression:
 * field names are the items' own, so none can clash with DynamoDB's reserved words.
 */
export function setFields(fields: Readonly<Record<string, unknown>>): { expression: string; names: Record<string, string>; values: Record<string, unknown> } {
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

export type NewVersion = Omit<VersionItem, "pk" | "sk" | "object" | "status"> & { status?: VersionStatus };

export type TransactItems = NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]["TransactItems"]>;

export class ConfigTable {
  readonly counter: WriteCounter = { writes: 0, transactions: 0 };

  constructor(protected readonly options: { client: DynamoDBDocumentClient; tableName: string }) {}

  /** Config alerts on their way to the topic, in this table beside the versions they report (lib/core/outbox.ts). */
  get outbox(): Outbox {
    return new Outbox({ client: this.options.client, table: this.options.tableName });
  }

  protected get table(): string {
    return this.options.tableName;
  }

  protected async transact(items: TransactItems, ref: string): Promise<void> {
    this.counter.transactions += 1;
    this.counter.writes += items.length;
    try {
      await this.options.client.send(new TransactWriteCommand({ TransactItems: items }));
    } catch (error) {
      if (isCancelledOrConditionFailure(error)) throw new ConcurrentChangeError(ref, { cause: error });
      throw error;
    }
  }

  /** PENDING → FAILED with the error and when, and one more field where there is one: the change failed after GSE may have taken it. */
  protected failPending(key: { pk: string; sk: string }, error: StoredError, now: number, extra?: { field: string; value: unknown }): Promise<boolean> {
    return this.update({
      Key: key,
      UpdateExpression: `SET #status = :failed, #error = :error, failed_at = :now${extra !== undefined ? `, ${extra.field} = :extra` : ""}`,
      ConditionExpression: "#status = :pending",
      ExpressionAttributeNames: { "#status": "status", "#error": "error" },
      ExpressionAttributeValues: {
        ":failed": "FAILED",
        ":pending": "PENDING",
        ":error": error,
        ":now": now,
        ...(extra !== undefined ? { ":extra": extra.value } : {}),
      },
    });
  }

  protected async update(input: Omit<ConstructorParameters<typeof UpdateCommand>[0], "TableName">): Promise<boolean> {
    this.counter.writes += 1;
    try {
      await this.options.client.send(new UpdateCommand({ ...input, TableName: this.table }));
      return true;
    } catch (error) {
      if (isCancelledOrConditionFailure(error)) return false;
      throw error;
    }
  }

  protected versionItem(ref: ObjectRef, fields: NewVersion): VersionItem {
    const item = versionItemSchema.parse({
      ...fields,
      pk: objectPk(ref),
      sk: versionSk(fields.version),
      object: objectKey(ref),
      status: fields.status ?? "PENDING",
    });
    assertRecordFits(item);
    return item;
  }

  /** An unlocked head moved straight to `version` (appended outside a claim), conditioned on the head as read. */
  protected advanceHead(ref: ObjectRef, head: HeadItem, version: number, now: number) {
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
}
