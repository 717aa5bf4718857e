/**
 * The status page's time series in the fleet table (keys and shapes: log-items.ts): the
 * heartbeat's status snapshots and the alert log. Reads are by UTC day partition.
 */
import { PutCommand, QueryCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { TABLES } from "../resources.ts";
import {
  ALERT_LOG_RETENTION_DAYS,
  alertLogEntrySchema,
  alertLogItemSchema,
  alertLogPk,
  fleetStatsItemSchema,
  fleetStatsPk,
  utcDay,
  type AlertLogEntry,
  type FleetStatsItem,
} from "./log-items.ts";

export * from "./log-items.ts";

const TTL = TABLES.fleet.ttlAttribute;
const DAY_MS = 86_400_000;

export class FleetLog {
  constructor(private readonly options: { client: DynamoDBDocumentClient; tableName: string }) {}

  async putAlert(entry: AlertLogEntry): Promise<void> {
    const item = alertLogItemSchema.parse({
      ...entry,
      pk: alertLogPk(utcDay(entry.at)),
      sk: `${new Date(entry.at).toISOString()}#${entry.message_id}`,
      [TTL]: Math.floor(entry.at / 1000) + ALERT_LOG_RETENTION_DAYS * 86_400,
    });
    await this.options.client.send(new PutCommand({ TableName: this.options.tableName, Item: item }));
  }

  /** The newest `limit` alerts of the last ALERT_LOG_RETENTION_DAYS before `now`, newest first. */
  async recentAlerts(now: number, limit: number): Promise<AlertLogEntry[]> {
    const entries: AlertLogEntry[] = [];
    for (let day = 0; day < ALERT_LOG_RETENTION_DAYS && entries.length < limit; day++) {
      const items = await this.query(alertLogPk(utcDay(now - day * DAY_MS)), { limit: limit - entries.length, newestFirst: true });
      for (const raw of items) {
        const parsed = alertLogEntrySchema.safeParse(raw);
        if (parsed.success) entries.push(parsed.data);
      }
    }
    return entries;
  }

  /** Snapshots of periods starting at or after `since` (ms), oldest first. */
  async statsSince(since: number, now: number): Promise<FleetStatsItem[]> {
    const days = [utcDay(since)];
    for (let day = since; utcDay(day) < utcDay(now); ) {
      day += DAY_MS;
      days.push(utcDay(day));
    }
    const sinceSk = new Date(since).toISOString();
    const pages = await Promise.all(days.map((day) => this.query(fleetStatsPk(day), { from: sinceSk })));
    return pages.flat().flatMap((raw) => {
      const parsed = fleetStatsItemSchema.safeParse(raw);
      return parsed.success ? [parsed.data] : [];
    });
  }

  /** Items of one partition, in sk order (or newest first), from `from` on, up to `limit`. */
  private async query(pk: string, options: { from?: string; limit?: number; newestFirst?: boolean }): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.options.client.send(
        new QueryCommand({
          TableName: this.options.tableName,
          KeyConditionExpression: options.from === undefined ? "pk = :pk" : "pk = :pk AND sk >= :from",
          ExpressionAttributeValues: { ":pk": pk, ...(options.from === undefined ? {} : { ":from": options.from }) },
          ScanIndexForward: !options.newestFirst,
          ...(options.limit !== undefined ? { Limit: options.limit - items.length } : {}),
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start !== undefined && (options.limit === undefined || items.length < options.limit));
    return items;
  }
}
