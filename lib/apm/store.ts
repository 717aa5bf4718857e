/**
 * The apps table (lib/resources.ts TABLES.apps): APM applications and their probe instances.
 *
 *   pk = apps                     sk = <bk_biz_id>#<app_name>      the app: retention, datasources
 *   pk = probes#<biz>#<app_name>  sk = ["agent","service","inst"]  one probe instance, last seen
 *
 * Every app change is conditioned on the revision it read, so two changes of one app can never
 * both win; app names are unique per business because the key is made of both.
 */
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  BatchWriteCommand,
  paginateQuery,
  type DynamoDBDocumentClient,
} from "@aws-sdk/lib-dynamodb";
import pLimit from "p-limit";
import * as z from "zod";
import { appViewSchema, type AppView, type ProbeReport } from "./schemas.ts";
import { TABLES } from "../resources.ts";
import { isConditionFailure } from "../dynamo/conditions.ts";
import { decodeKeyCursor, encodeKeyCursor, type Page } from "../dynamo/cursor.ts";
import { BATCH_WRITE_MAX_ITEMS, chunk, drainUnprocessed, retryPolicy } from "../dynamo/batch.ts";

const TTL = TABLES.apps.ttlAttribute;
const APPS_PK = "apps";

export const appSk = (bizId: number, appName: string): string => `${bizId}#${appName}`;
export const probesPk = (bizId: number, appName: string): string => `probes#${bizId}#${appName}`;

export const appItemSchema = appViewSchema.extend({ pk: z.literal(APPS_PK), sk: z.string() });
export type AppItem = z.infer<typeof appItemSchema>;

export const probeItemSchema = z.object({
  pk: z.string(),
  sk: z.string(),
  agent_id: z.string(),
  service: z.string(),
  instance: z.string(),
  probe_version: z.string(),
  last_seen: z.number(),
  [TTL]: z.int().optional(),
});
export type ProbeItem = z.infer<typeof probeItemSchema>;

export class AppStore {
  private readonly limit = pLimit(8);

  constructor(private readonly options: { client: DynamoDBDocumentClient; tableName: string }) {}

  private get client(): DynamoDBDocumentClient {
    return this.options.client;
  }

  private get tableName(): string {
    return this.options.tableName;
  }

  /** Writes `item` when the condition holds; false when it does not. */
  private async conditionalPut(item: AppItem, condition: string, values?: Record<string, unknown>): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({ TableName: this.tableName, Item: item, ConditionExpression: condition, ...(values ? { ExpressionAttributeValues: values } : {}) }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /** Creates the app; false when the business already has an app of that name. */
  createApp(app: AppView): Promise<boolean> {
    return this.conditionalPut({ ...app, pk: APPS_PK, sk: appSk(app.bk_biz_id, app.app_name) }, "attribute_not_exists(pk)");
  }

  /** Replaces the app if it is still at `app.revision - 1`; false when someone changed it first. */
  replaceApp(app: AppView): Promise<boolean> {
    return this.conditionalPut({ ...app, pk: APPS_PK, sk: appSk(app.bk_biz_id, app.app_name) }, "revision = :previous", { ":previous": app.revision - 1 });
  }

  async getApp(bizId: number, appName: string): Promise<AppView | undefined> {
    const out = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { pk: APPS_PK, sk: appSk(bizId, appName) }, ConsistentRead: true }));
    return out.Item ? viewOf(appItemSchema.parse(out.Item)) : undefined;
  }

  async listApps(bizId?: number): Promise<AppView[]> {
    const apps: AppView[] = [];
    const pages = paginateQuery(
      { client: this.client },
      {
        TableName: this.tableName,
        KeyConditionExpression: bizId === undefined ? "pk = :pk" : "pk = :pk AND begins_with(sk, :prefix)",
        ExpressionAttributeValues: { ":pk": APPS_PK, ...(bizId === undefined ? {} : { ":prefix": `${bizId}#` }) },
      },
    );
    for await (const page of pages) for (const item of page.Items ?? []) apps.push(viewOf(appItemSchema.parse(item)));
    return apps;
  }

  /** Deletes the app if it is still at `revision`; false when it changed (or is gone). */
  async deleteApp(bizId: number, appName: string, revision: number): Promise<boolean> {
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { pk: APPS_PK, sk: appSk(bizId, appName) },
          ConditionExpression: "revision = :revision",
          ExpressionAttributeValues: { ":revision": revision },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  // ---- probes -------------------------------------------------------------------------------

  /**
   * Records probe instances; an instance's last_seen only moves forward, so a late or repeated
   * report never makes it look older. Items expire `keepSeconds` after they were last seen.
   */
  async putProbes(bizId: number, appName: string, reports: readonly (ProbeReport & { last_seen: number })[], keepSeconds: number): Promise<number> {
    const pk = probesPk(bizId, appName);
    let written = 0;
    await Promise.all(
      reports.map((report) =>
        this.limit(async () => {
          try {
            await this.client.send(
              new UpdateCommand({
                TableName: this.tableName,
                Key: { pk, sk: JSON.stringify([report.agent_id, report.service, report.instance]) },
                UpdateExpression: "SET agent_id = :agent, service = :service, #instance = :instance, probe_version = :version, last_seen = :seen, #ttl = :ttl",
                ConditionExpression: "attribute_not_exists(last_seen) OR last_seen <= :seen",
                ExpressionAttributeNames: { "#instance": "instance", "#ttl": TTL },
                ExpressionAttributeValues: {
                  ":agent": report.agent_id,
                  ":service": report.service,
                  ":instance": report.instance,
                  ":version": report.probe_version,
                  ":seen": report.last_seen,
                  ":ttl": Math.floor(report.last_seen / 1000) + keepSeconds,
                },
              }),
            );
            written++;
          } catch (error) {
            if (!isConditionFailure(error)) throw error;
          }
        }),
      ),
    );
    return written;
  }

  /** One page of the app's probe instances seen within [startMs, endMs], both included. */
  async probePage(
    bizId: number,
    appName: string,
    window: { startMs: number; endMs: number },
    options: { limit: number; cursor?: string | undefined; service?: string | undefined },
  ): Promise<Page<ProbeItem>> {
    const pk = probesPk(bizId, appName);
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: "pk = :pk",
        FilterExpression: `last_seen BETWEEN :start AND :end${options.service === undefined ? "" : " AND service = :service"}`,
        ExpressionAttributeValues: {
          ":pk": pk,
          ":start": window.startMs,
          ":end": window.endMs,
          ...(options.service === undefined ? {} : { ":service": options.service }),
        },
        Limit: options.limit,
        ExclusiveStartKey: decodeKeyCursor(options.cursor, pk),
      }),
    );
    return {
      items: (out.Items ?? []).map((item) => probeItemSchema.parse(item)),
      cursor: encodeKeyCursor(out.LastEvaluatedKey),
    };
  }

  /** Every probe instance of the app seen within the window. */
  async probesIn(bizId: number, appName: string, window: { startMs: number; endMs: number }): Promise<ProbeItem[]> {
    const items: ProbeItem[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.probePage(bizId, appName, window, { limit: 1000, cursor });
      items.push(...page.items);
      cursor = page.cursor;
    } while (cursor !== undefined);
    return items;
  }

  /** Deletes every probe item of the app (after the app itself is gone). */
  async deleteProbes(bizId: number, appName: string): Promise<void> {
    const all = await this.probesIn(bizId, appName, { startMs: 0, endMs: Number.MAX_SAFE_INTEGER });
    type Request = { DeleteRequest: { Key: Record<string, string> } };
    for (const part of chunk(all, BATCH_WRITE_MAX_ITEMS)) {
      const left = await drainUnprocessed<Request>(
        part.map((p) => ({ DeleteRequest: { Key: { pk: p.pk, sk: p.sk } } })),
        async (requests) => {
          const out = await this.client.send(new BatchWriteCommand({ RequestItems: { [this.tableName]: [...requests] } }));
          return (out.UnprocessedItems?.[this.tableName] ?? []) as Request[];
        },
        retryPolicy({ client: this.client, tableName: this.tableName }),
      );
      if (left.length > 0) throw new Error(`could not delete ${left.length} probe items of ${probesPk(bizId, appName)}`);
    }
  }
}

function viewOf(item: AppItem): AppView {
  const { pk: _pk, sk: _sk, ...view } = item;
  return view;
}
