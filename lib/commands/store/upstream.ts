/** Messages from agents that no command of ours asked for, one partition per UTC day. */
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import type { Page } from "../../dynamo/cursor.ts";
import { upstreamItemSchema, upstreamPk, type UpstreamItem } from "./items.ts";
import { queryPage, type CommandTable, type PageRequest } from "./table.ts";

export async function putUpstream(table: CommandTable, item: UpstreamItem): Promise<void> {
  await table.client.send(new PutCommand({ TableName: table.tableName, Item: item }));
}

/** One day's messages, newest first. */
export async function listUpstream(table: CommandTable, day: string, options: PageRequest): Promise<Page<UpstreamItem>> {
  const pk = upstreamPk(day);
  return queryPage(table, { pk, schema: upstreamItemSchema }, options, {
    KeyConditionExpression: "pk = :pk",
    ExpressionAttributeValues: { ":pk": pk },
    ScanIndexForward: false,
  });
}
