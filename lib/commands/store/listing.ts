/**
 * The index partition (pk = cmds#index): one entry per command, written with the command and moved
 * along with its status, so listing and the sweep read one partition instead of the table.
 */
import type { Page } from "../../dynamo/cursor.ts";
import type { CommandStatus } from "../schemas.ts";
import { INDEX_PK, indexItemSchema, TTL, type CommandItem, type IndexItem } from "./items.ts";
import { queryPage, type CommandTable, type PageRequest, type TransactItem } from "./table.ts";

/** The index entry a new command is created with (same transaction as the command). */
export function indexEntryPut(table: CommandTable, command: CommandItem): TransactItem {
  return {
    Put: {
      TableName: table.tableName,
      Item: {
        pk: INDEX_PK,
        sk: command.index_sk,
        message_id: command.message_id,
        status: command.status,
        targets: command.target_count,
        created_at: command.created_at,
        created_by: command.created_by,
        [TTL]: command[TTL],
      } satisfies IndexItem,
    },
  };
}

/** The index entry follows its command to a final status (same transaction as the command). */
export function indexStatusUpdate(table: CommandTable, command: CommandItem, status: CommandStatus): TransactItem {
  return {
    Update: {
      TableName: table.tableName,
      Key: { pk: INDEX_PK, sk: command.index_sk },
      UpdateExpression: "SET #status = :status",
      ExpressionAttributeNames: { "#status": "status" },
      ExpressionAttributeValues: { ":status": status },
    },
  };
}

/** Commands newest first, optionally of one status. */
export async function listCommands(table: CommandTable, options: PageRequest & { status?: CommandStatus }): Promise<Page<IndexItem>> {
  return queryPage(table, { pk: INDEX_PK, schema: indexItemSchema }, options, {
    KeyConditionExpression: "pk = :pk",
    ExpressionAttributeValues: { ":pk": INDEX_PK, ...(options.status ? { ":status": options.status } : {}) },
    ...(options.status ? { FilterExpression: "#status = :status", ExpressionAttributeNames: { "#status": "status" } } : {}),
    ScanIndexForward: false,
  });
}
