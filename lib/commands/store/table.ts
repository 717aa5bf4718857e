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
import * as z from "zod";
import { isConditionFailure, isTransactionConflict } from "../../dynamo/conditions.ts";
import { decodeCursor, encodeCursor, type Page } from "../../dynamo/cursor.ts";
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
export function queryPage<T>(
  table: CommandTable,
  partition: { pk: string; schema: z.ZodType<T> },
  request: PageRequest,
  query: Omit<QueryCommandInput, "TableName" | "Limit" | "ExclusiveStartKey">,
): Promise<Page<T>> {
  return queryPartitionsPage(table, { partitions: [partition.pk], schema: partition.schema }, request, () => query);
}

/**
 * One page of `limit` items of several partitions read in turn (a command's agent items spread
 * over shards), from `cursor` on: the last key read, or the next partition's start ({pk} alone)
 * when a page filled as a partition ended. A cursor names one of these partitions or is refused.
 */
export async function queryPartitionsPage<T>(
  table: CommandTable,
  of: { partitions: readonly string[]; schema: z.ZodType<T> },
  request: PageRequest,
  query: (pk: string) => Omit<QueryCommandInput, "TableName" | "Limit" | "ExclusiveStartKey">,
): Promise<Page<T>> {
  const { partitions } = of;
  const items: T[] = [];
  const from = request.cursor === undefined ? undefined : decodeCursor(partitionCursorSchema(partitions), request.cursor);
  let at = from === undefined ? 0 : partitions.indexOf(from.pk);
  let start: Record<string, unknown> | undefined = from?.sk === undefined ? undefined : { pk: from.pk, sk: from.sk };
  for (; at < partitions.length; at++) {
    const pk = partitions[at] as string;
    do {
      const out = await table.client.send(
        new QueryCommand({ ...query(pk), TableName: table.tableName, Limit: request.limit - items.length, ExclusiveStartKey: start }),
      );
      for (const item of out.Items ?? []) items.push(of.schema.parse(item));
      start = out.LastEvaluatedKey;
    } while (start && items.length < request.limit);
    if (start) return { items, cursor: encodeCursor(start) };
    if (items.length >= request.limit) {
      const next = partitions[at + 1];
      return { items, cursor: next === undefined ? undefined : encodeCursor({ pk: next }) };
    }
  }
  return { items, cursor: undefined };
}

const partitionCursorSchema = (partitions: readonly string[]) =>
  z.object({ pk: z.string().refine((pk) => partitions.includes(pk)), sk: z.string().optional() });
