/**
 * The command's own item (sk = meta): created once, its counters moved by every batch and agent
 * change in the same transaction, finished once, its final counts and alert claimed once.
 */
import { GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { CommandStatus } from "../schemas.ts";
import { commandItemSchema, commandPk, META_SK, type CommandDelta, type CommandItem } from "./items.ts";
import { indexEntryPut, indexStatusUpdate } from "./listing.ts";
import { conditional, transactConditional, type CommandTable, type TransactItem } from "./table.ts";

export type FinalCounts = NonNullable<CommandItem["counts"]>;

/** What a command ends with besides its status. */
export interface FinishFields {
  readonly counts?: CommandItem["counts"];
  readonly reason?: string;
  /** Set when the end was decided from the agents: the counter is corrected to what they show. */
  readonly pendingRetries?: number;
}

const metaKey = (messageId: string) => ({ pk: commandPk(messageId), sk: META_SK });

/** Creates the command and its index entry; false when one with this message_id exists. */
export async function createCommand(table: CommandTable, item: CommandItem): Promise<boolean> {
  return transactConditional(table, [
    { Put: { TableName: table.tableName, Item: item, ConditionExpression: "attribute_not_exists(pk)" } },
    indexEntryPut(table, item),
  ]);
}

export async function getCommand(table: CommandTable, messageId: string): Promise<CommandItem | undefined> {
  const out = await table.client.send(new GetCommand({ TableName: table.tableName, Key: metaKey(messageId), ConsistentRead: true }));
  return out.Item ? commandItemSchema.parse(out.Item) : undefined;
}

/** Adds to the command's counters; returns the command after the change. */
export async function addToCommand(table: CommandTable, messageId: string, delta: CommandDelta, now: number): Promise<CommandItem> {
  const update = deltaUpdate(delta, now);
  const out = await table.client.send(
    new UpdateCommand({
      TableName: table.tableName,
      Key: metaKey(messageId),
      UpdateExpression: update.expression,
      ExpressionAttributeValues: update.values,
      ConditionExpression: "attribute_exists(pk)",
      ReturnValues: "ALL_NEW",
    }),
  );
  return commandItemSchema.parse(out.Attributes);
}

/** The counter change that goes with an agent or batch change, in that change's transaction. */
export function commandDeltaUpdate(table: CommandTable, messageId: string, delta: CommandDelta, now: number): TransactItem {
  const update = deltaUpdate(delta, now);
  return {
    Update: {
      TableName: table.tableName,
      Key: metaKey(messageId),
      UpdateExpression: update.expression,
      ExpressionAttributeValues: update.values,
    },
  };
}

/**
 * Moves a RUNNING command to a final status (and its index entry along); false when it was no
 * longer RUNNING, so only one finisher wins.
 */
export async function finishCommand(
  table: CommandTable,
  item: CommandItem,
  end: { status: Exclude<CommandStatus, "RUNNING">; fields: FinishFields; now: number },
): Promise<boolean> {
  const { status, fields, now } = end;
  const values: Record<string, unknown> = { ":running": "RUNNING", ":status": status, ":now": now };
  const sets = ["#status = :status", "updated_at = :now", "finished_at = :now"];
  if (fields.counts) {
    sets.push("#counts = :counts");
    values[":counts"] = fields.counts;
  }
  if (fields.reason !== undefined) {
    sets.push("reason = :reason");
    values[":reason"] = fields.reason;
  }
  if (fields.pendingRetries !== undefined) {
    sets.push("pending_retries = :pendingRetries");
    values[":pendingRetries"] = fields.pendingRetries;
  }
  return transactConditional(table, [
    {
      Update: {
        TableName: table.tableName,
        Key: { pk: item.pk, sk: META_SK },
        UpdateExpression: `SET ${sets.join(", ")}`,
        ConditionExpression: "#status = :running",
        ExpressionAttributeNames: { "#status": "status", ...(fields.counts ? { "#counts": "counts" } : {}) },
        ExpressionAttributeValues: values,
      },
    },
    indexStatusUpdate(table, item, status),
  ]);
}

/**
 * Stores the final counts of an ended command (recounted from its final outcomes); false when
 * its alert went out already: from then on the counts are the alert's and stay as they are.
 */
export async function setCounts(table: CommandTable, messageId: string, counts: FinalCounts): Promise<boolean> {
  return conditional(
    table,
    new UpdateCommand({
      TableName: table.tableName,
      Key: metaKey(messageId),
      UpdateExpression: "SET #counts = :counts",
      ConditionExpression: "attribute_exists(pk) AND attribute_not_exists(alerted_at)",
      ExpressionAttributeNames: { "#counts": "counts" },
      ExpressionAttributeValues: { ":counts": counts },
    }),
  );
}

function deltaUpdate(delta: CommandDelta, now: number): { expression: string; values: Record<string, unknown> } {
  const adds: string[] = [];
  const values: Record<string, unknown> = { ":now": now };
  if (delta.errors) {
    adds.push("errors :errors");
    values[":errors"] = delta.errors;
  }
  if (delta.pendingRetries) {
    adds.push("pending_retries :retries");
    values[":retries"] = delta.pendingRetries;
  }
  if (delta.batchesDone) {
    adds.push("batches_done :batches");
    values[":batches"] = delta.batchesDone;
  }
  if (delta.inFlight) {
    adds.push("in_flight :inFlight");
    values[":inFlight"] = delta.inFlight;
  }
  return { expression: `SET updated_at = :now${adds.length > 0 ? ` ADD ${adds.join(", ")}` : ""}`, values };
}

/** Sets or clears `paused` on a RUNNING command; false when it is not RUNNING (or gone). */
export async function setPaused(table: CommandTable, messageId: string, paused: boolean, now: number): Promise<boolean> {
  return conditional(
    table,
    new UpdateCommand({
      TableName: table.tableName,
      Key: metaKey(messageId),
      UpdateExpression: "SET paused = :paused, updated_at = :now",
      ConditionExpression: "#status = :running",
      ExpressionAttributeNames: { "#status": "status" },
      ExpressionAttributeValues: { ":paused": paused, ":running": "RUNNING", ":now": now },
    }),
  );
}

/**
 * Mends `in_flight` to a recount, only when the command has not changed since it was read (every
 * counter move sets updated_at): a settle racing the recount wins, and the next recount looks again.
 */
export async function setInFlight(table: CommandTable, command: Pick<CommandItem, "message_id" | "updated_at">, inFlight: number): Promise<boolean> {
  return conditional(
    table,
    new UpdateCommand({
      TableName: table.tableName,
      Key: metaKey(command.message_id),
      UpdateExpression: "SET in_flight = :inFlight",
      ConditionExpression: "updated_at = :seen",
      ExpressionAttributeValues: { ":inFlight": inFlight, ":seen": command.updated_at },
    }),
  );
}

/**
 * Marks that a settle asked for a tick to send the next batch: true for the first asker while the
 * window has room for a batch and batches are left, at most once every `everyMs`. With `anyRoom`
 * (a reply whose agent its batch's count settles: the counters cannot show it yet) neither the
 * window nor the batches left are looked at, only the once every `everyMs`.
 */
export async function requestTick(
  table: CommandTable,
  command: Pick<CommandItem, "message_id" | "max_concurrency" | "batch_size">,
  at: { now: number; everyMs: number; anyRoom?: boolean },
): Promise<boolean> {
  const room = at.anyRoom === true ? "" : "batches_done < batch_count AND (attribute_not_exists(in_flight) OR in_flight <= :room) AND ";
  return conditional(
    table,
    new UpdateCommand({
      TableName: table.tableName,
      Key: metaKey(command.message_id),
      UpdateExpression: "SET tick_requested_at = :now",
      ConditionExpression:
        `#status = :running AND ${room}(attribute_not_exists(paused) OR paused = :no) ` +
        "AND (attribute_not_exists(tick_requested_at) OR tick_requested_at < :stale)",
      ExpressionAttributeNames: { "#status": "status" },
      ExpressionAttributeValues: {
        ":running": "RUNNING",
        ":no": false,
        ...(room ? { ":room": command.max_concurrency - command.batch_size } : {}),
        ":now": at.now,
        ":stale": at.now - at.everyMs,
      },
    }),
  );
}
