/**
 * Plans and applies in the configs table (lib/resources.ts TABLES.configs), beside the versions
 * they write. Keys are defined here once:
 *
 *   pk = plan#<id>           sk = meta               a plan: the document, what GSE held (hash), the ordered changes
 *   pk = apply#<id>          sk = meta               an apply: status, steps, bake, error; every change conditional on `rev`
 *   pk = applies#index       sk = <created ms>#<id>  every apply, newest last (GET /v1/applies)
 *   pk = desired#<plat>      sk = last               the platform's last applied document (prune, drift as a plan)
 *   pk = desired#index       sk = <plat>             the platforms that have one
 *
 * Documents keep their secrets (an apply must write them, an undo restore them); views mask them.
 */
import { GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { isCancelledOrConditionFailure } from "../dynamo/conditions.ts";
import { Outbox, type DocumentTransactItem } from "../core/outbox.ts";
import { TABLES } from "../resources.ts";
import type { PlannedChange } from "./plan.ts";
import type { ApplyStatus, ApplyStep, BakeGate, DesiredDocument } from "./schemas.ts";
import type { StoredError } from "../config-versions/items.ts";

export const TTL = TABLES.configs.ttlAttribute;
/** Plans and applies are kept this long (history). */
export const DESIRED_RETENTION_SECONDS = 90 * 86_400;

export const planPk = (id: string): string => `plan#${id}`;
export const applyPk = (id: string): string => `apply#${id}`;
export const APPLIES_INDEX_PK = "applies#index";
export const appliesIndexSk = (createdAt: number, id: string): string => `${String(createdAt).padStart(13, "0")}#${id}`;
export const lastAppliedPk = (platName: string): string => `desired#${platName}`;
/** pk = desired#index, sk = <plat>: the platforms that have a last applied document. */
export const DESIRED_INDEX_PK = "desired#index";
export const META_SK = "meta";
export const LAST_SK = "last";

export interface PlanItem {
  readonly pk: string;
  readonly sk: typeof META_SK;
  readonly plan_id: string;
  readonly plat_name: string;
  readonly source: "request" | "drift";
  readonly prune: boolean;
  readonly document: DesiredDocument;
  /** The channels read for the plan (the document's, and for prune the last applied one's). */
  readonly channel_ids: readonly number[];
  readonly state_hash: string;
  readonly changes: readonly PlannedChange[];
  readonly created_by: string;
  readonly created_at: number;
  readonly apply_id?: string;
  readonly [TTL]: number;
}

export interface ApplyBake {
  readonly seconds: number;
  readonly until: number;
  readonly gate: BakeGate | null;
  readonly alive_before: number | null;
  readonly alive_now: number | null;
  readonly tripped: { readonly gate: "alive_ratio" | "drift"; readonly reason: string } | null;
  /** When a tick last looked at the gate. */
  readonly checked_at?: number;
}

export interface ApplyItem {
  readonly pk: string;
  readonly sk: typeof META_SK;
  readonly apply_id: string;
  readonly plan_id: string;
  readonly plat_name: string;
  readonly status: ApplyStatus;
  readonly rev: number;
  readonly author: string;
  readonly steps: readonly ApplyStep[];
  readonly error: StoredError | null;
  readonly bake: ApplyBake | null;
  /** Set once the one alert of a failed apply was published (ROLLED_BACK after a failure or a gate, ROLLBACK_FAILED). */
  readonly alerted_at?: number;
  readonly started_at: number;
  readonly finished_at?: number;
  readonly [TTL]: number;
}

export type ApplyChange = Partial<Omit<ApplyItem, "pk" | "sk" | "apply_id" | "rev">>;

export interface LastApplied {
  readonly pk: string;
  readonly sk: typeof LAST_SK;
  readonly plat_name: string;
  readonly apply_id: string;
  readonly plan_id: string;
  readonly document: DesiredDocument;
  readonly applied_at: number;
  /** The GSE state hash of the last drift reported as a plan: the same drift is reported once. */
  readonly drift_hash?: string;
}

export class DesiredStore {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;

  constructor(options: { client: DynamoDBDocumentClient; tableName: string }) {
    this.client = options.client;
    this.tableName = options.tableName;
  }

  async putPlan(item: PlanItem): Promise<void> {
    await this.client.send(new PutCommand({ TableName: this.tableName, Item: item }));
  }

  async getPlan(id: string): Promise<PlanItem | undefined> {
    const out = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { pk: planPk(id), sk: META_SK }, ConsistentRead: true }));
    return out.Item as PlanItem | undefined;
  }

  /**
   * A new apply of a plan, with its index entry and the plan marked as applied by it, in one
   * transaction: a plan is applied once (false: another apply took it first).
   */
  async createApply(item: ApplyItem): Promise<boolean> {
    try {
      await this.client.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: this.tableName, Item: item, ConditionExpression: "attribute_not_exists(pk)" } },
            {
              Put: {
                TableName: this.tableName,
                Item: { pk: APPLIES_INDEX_PK, sk: appliesIndexSk(item.started_at, item.apply_id), apply_id: item.apply_id, [TTL]: item[TTL] },
              },
            },
            {
              Update: {
                TableName: this.tableName,
                Key: { pk: planPk(item.plan_id), sk: META_SK },
                UpdateExpression: "SET apply_id = :apply",
                ConditionExpression: "attribute_exists(pk) AND attribute_not_exists(apply_id)",
                ExpressionAttributeValues: { ":apply": item.apply_id },
              },
            },
          ],
        }),
      );
      return true;
    } catch (error) {
      if (isCancelledOrConditionFailure(error)) return false;
      throw error;
    }
  }

  async getApply(id: string): Promise<ApplyItem | undefined> {
    const out = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { pk: applyPk(id), sk: META_SK }, ConsistentRead: true }));
    return out.Item as ApplyItem | undefined;
  }

  /** Alerts of applies on their way to the topic, in this table beside the apply they report (lib/core/outbox.ts; the outbox sweep reads it). */
  get outbox(): Outbox {
    return new Outbox({ client: this.client, table: this.tableName });
  }

  /** The write updateApply makes, for a transaction of the caller's (the state change with its alert, in one). */
  applyUpdate(item: ApplyItem, change: ApplyChange): { next: ApplyItem; write: DocumentTransactItem } {
    const next: ApplyItem = { ...item, ...change, rev: item.rev + 1 };
    return {
      next,
      write: { Put: { TableName: this.tableName, Item: next, ConditionExpression: "rev = :rev", ExpressionAttributeValues: { ":rev": item.rev } } },
    };
  }

  /** The apply with `change`, if it is still at the rev read (false: another writer moved it). */
  async updateApply(item: ApplyItem, change: ApplyChange): Promise<ApplyItem | undefined> {
    const { next, write } = this.applyUpdate(item, change);
    try {
      await this.client.send(new PutCommand(write.Put as NonNullable<DocumentTransactItem["Put"]>));
      return next;
    } catch (error) {
      if (isCancelledOrConditionFailure(error)) return undefined;
      throw error;
    }
  }

  /** Applies, newest first, a page at a time. */
  async listApplies(options: { limit: number; cursor?: string | undefined }): Promise<{ items: ApplyItem[]; cursor?: string }> {
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: { ":pk": APPLIES_INDEX_PK },
        ScanIndexForward: false,
        Limit: options.limit,
        ...(options.cursor ? { ExclusiveStartKey: { pk: APPLIES_INDEX_PK, sk: options.cursor } } : {}),
      }),
    );
    const ids = (out.Items ?? []).map((i) => String(i.apply_id));
    const items = (await Promise.all(ids.map((id) => this.getApply(id)))).filter((i): i is ApplyItem => i !== undefined);
    const last = out.LastEvaluatedKey?.sk;
    return { items, ...(typeof last === "string" ? { cursor: last } : {}) };
  }

  async getLastApplied(platName: string): Promise<LastApplied | undefined> {
    const out = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { pk: lastAppliedPk(platName), sk: LAST_SK }, ConsistentRead: true }));
    return out.Item as LastApplied | undefined;
  }

  /** The platform's last applied document, and the platform in the index of platforms that have one. */
  async putLastApplied(item: Omit<LastApplied, "pk" | "sk">): Promise<void> {
    await this.client.send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: this.tableName, Item: { pk: lastAppliedPk(item.plat_name), sk: LAST_SK, ...item } } },
          { Put: { TableName: this.tableName, Item: { pk: DESIRED_INDEX_PK, sk: item.plat_name, plat_name: item.plat_name } } },
        ],
      }),
    );
  }

  /** Notes the drift reported (its state hash), unless a newer apply replaced the document meanwhile. */
  async setDriftHash(platName: string, applyId: string, hash: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: lastAppliedPk(platName), sk: LAST_SK },
          UpdateExpression: "SET drift_hash = :hash",
          ConditionExpression: "apply_id = :apply",
          ExpressionAttributeValues: { ":hash": hash, ":apply": applyId },
        }),
      );
    } catch (error) {
      if (!isCancelledOrConditionFailure(error)) throw error;
    }
  }

  /** Platforms with a last applied document (the scheduled drift-as-a-plan check). */
  async lastAppliedPlatforms(): Promise<string[]> {
    const out = await this.client.send(
      new QueryCommand({ TableName: this.tableName, KeyConditionExpression: "pk = :pk", ExpressionAttributeValues: { ":pk": DESIRED_INDEX_PK } }),
    );
    return (out.Items ?? []).map((i) => String(i.plat_name));
  }
}
