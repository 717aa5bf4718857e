/**
 * The commands table as every item kind's module reaches it: the client, the table name, the
 * store's bound on calls in flight, and the three kinds of write they share (conditional,
 * conditional transaction, paged query).
 */
import {
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  type QueryCommandInput,
  type TransactWriteCommandInput,
  type UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import type { z } from "zod";
import { isConditionFailure, isTransactionConflict } from "../../dynamo/conditions.ts";
import { decodeKeyCursor, encodeKeyCursor, type Page } from "../../dynamo/cursor.ts";
import type { BatchTable } from "../../dynamo/batch.ts";

/** The commands table as every item kind's module writes it: the one repository base. */
export type CommandTable = BatchTable;

export type TransactItem = NonNullable<TransactWriteCommandInput["TransactItems"]>[number];

/** Where a listing starts and how much of it one call returns. */
export interface PageRequest {
  readonly limit: number;
  readonly cursor: string | undefined;
}

/** A conditional write: false when its condition failed (someone else got there first). */
export async function conditional(table: CommandTable, command: PutCommand | UpdateCommand): Promise<boolean> {
  try {
    // Two overloads of one send: the union has to be split for the type checker.
    if (command instanceof PutCommand) await table.client.send(command);
    else await table.client.send(command);
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

/** A transaction of conditional writes: false when one of its conditions failed. */
export async function transactConditional(table: CommandTable, items: readonly TransactItem[]): Promise<boolean> {
  try {
    await transact(table, items);
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

/** A transaction; one that lost a race with another on the same item is tried again. */
export async function transact(table: CommandTable, items: readonly TransactItem[]): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await table.client.send(new TransactWriteCommand({ TransactItems: [...items] }));
      return;
    } catch (error) {
      if (!isTransactionConflict(error) || attempt >= table.retry.maxAttempts) throw error;
      await table.retry.sleep(Math.floor(table.retry.random() * Math.min(1_000, 20 * 2 ** attempt)));
    }
  }
}

/**
 * One page of `limit` items of partition `pk`, from `cursor` on. A filter reads a page and may
 * keep little of it: read on until the page is full or the partition ends.
 */
export async function queryPage<T>(
  table: CommandTable,
  partition: { pk: string; schema: z.ZodType<T> },
  request: PageRequest,
  query: Omit<QueryCommandInput, "TableName" | "Limit" | "ExclusiveStartKey">,
): Promise<Page<T>> {
  const items: T[] = [];
  let start = decodeKeyCursor(request.cursor, partition.pk);
  do {
    const out = await table.client.send(
      new QueryCommand({ ...query, TableName: table.tableName, Limit: request.limit - items.length, ExclusiveStartKey: start }),
    );
    for (const item of out.Items ?? []) items.push(partition.schema.parse(item));
    start = out.LastEvaluatedKey;
  } while (start && items.length < request.limit);
  return { items, cursor: encodeKeyCursor(start) };
}
