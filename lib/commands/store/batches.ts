/**
 * Batch items (sk = batch#<hash>#<n>): written PENDING with the command, claimed by one sender
 * under a lease, then SENT (counted on the command once), released for a later resend, or SKIPPED.
 */
import { GetCommand, PutCommand, UpdateCommand, paginateQuery } from "@aws-sdk/lib-dynamodb";
import { isConditionFailure } from "../../dynamo/conditions.ts";
import { batchItemSchema, batchPrefix, commandPk, TTL, type BatchClaim, type BatchItem } from "./items.ts";
import { commandDeltaUpdate } from "./command.ts";
import { conditional, transactConditional, type CommandTable } from "./table.ts";

/** Every attribute but the agent ids: what the send loop and the counts need of a batch. */
const WITHOUT_IDS = {
  ProjectionExpression: "pk, sk, #index, #size, #state, claim, lease_until, sent_at, failed, attempts, not_before, #ttl",
  ExpressionAttributeNames: { "#index": "index", "#size": "size", "#state": "state", "#ttl": TTL },
};

/** Writes the batches that do not exist yet (a second identical submission writes none). */
export async function putBatches(table: CommandTable, items: readonly BatchItem[]): Promise<void> {
  await Promise.all(
    items.map((item) =>
      table.limit(() => conditional(table, new PutCommand({ TableName: table.tableName, Item: item, ConditionExpression: "attribute_not_exists(sk)" }))),
    ),
  );
}

/** The command's batches, in order; without their agent ids unless asked. */
export async function listBatches(table: CommandTable, command: { messageId: string; hash: string }, withIds: boolean): Promise<BatchItem[]> {
  const items: BatchItem[] = [];
  const pages = paginateQuery(
    { client: table.client },
    {
      TableName: table.tableName,
      KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
      ExpressionAttributeValues: { ":pk": commandPk(command.messageId), ":prefix": batchPrefix(command.hash) },
      ...(withIds ? {} : WITHOUT_IDS),
      ConsistentRead: true,
    },
  );
  for await (const page of pages) for (const item of page.Items ?? []) items.push(batchItemSchema.parse(item));
  return items;
}

export async function getBatch(table: CommandTable, messageId: string, sk: string): Promise<BatchItem | undefined> {
  const out = await table.client.send(new GetCommand({ TableName: table.tableName, Key: { pk: commandPk(messageId), sk }, ConsistentRead: true }));
  return out.Item ? batchItemSchema.parse(out.Item) : undefined;
}

/**
 * Claims a batch for sending: PENDING, or SENDING under a lease that ran out (its sender died).
 * Returns the batch with its ids, or undefined when someone else has it.
 */
export async function claimBatch(table: CommandTable, batch: BatchClaim, lease: { now: number; leaseMs: number }): Promise<BatchItem | undefined> {
  try {
    const out = await table.client.send(
      new UpdateCommand({
        TableName: table.tableName,
        Key: { pk: commandPk(batch.messageId), sk: batch.sk },
        UpdateExpression: "SET #state = :sending, claim = :claim, lease_until = :lease",
        ConditionExpression: "#state = :pending OR (#state = :sending AND lease_until < :now)",
        ExpressionAttributeNames: { "#state": "state" },
        ExpressionAttributeValues: {
          ":sending": "SENDING",
          ":pending": "PENDING",
          ":claim": batch.claim,
          ":lease": lease.now + lease.leaseMs,
          ":now": lease.now,
        },
        ReturnValues: "ALL_NEW",
      }),
    );
    return batchItemSchema.parse(out.Attributes);
  } catch (error) {
    if (isConditionFailure(error)) return undefined;
    throw error;
  }
}

/** The batch is sent (its failures recorded): it counts as done on the command, once. */
export async function completeBatch(table: CommandTable, batch: BatchClaim, sent: { failed: number; now: number }): Promise<boolean> {
  return transactConditional(table, [
    {
      Update: {
        TableName: table.tableName,
        Key: { pk: commandPk(batch.messageId), sk: batch.sk },
        UpdateExpression: "SET #state = :sent, sent_at = :now, failed = :failed REMOVE lease_until",
        ConditionExpression: "#state = :sending AND claim = :claim",
        ExpressionAttributeNames: { "#state": "state" },
        ExpressionAttributeValues: { ":sent": "SENT", ":sending": "SENDING", ":claim": batch.claim, ":now": sent.now, ":failed": sent.failed },
      },
    },
    commandDeltaUpdate(table, batch.messageId, { batchesDone: 1 }, sent.now),
  ]);
}

/**
 * GSE refused the whole batch for a passing reason (5xx, 429, timeout): it goes back to PENDING,
 * to be sent again, whole, from `notBefore`.
 */
export async function releaseBatch(table: CommandTable, batch: BatchClaim, next: { attempts: number; notBefore: number }): Promise<boolean> {
  return conditional(
    table,
    new UpdateCommand({
      TableName: table.tableName,
      Key: { pk: commandPk(batch.messageId), sk: batch.sk },
      UpdateExpression: "SET #state = :pending, attempts = :attempts, not_before = :notBefore REMOVE lease_until, claim",
      ConditionExpression: "#state = :sending AND claim = :claim",
      ExpressionAttributeNames: { "#state": "state" },
      ExpressionAttributeValues: {
        ":pending": "PENDING",
        ":sending": "SENDING",
        ":claim": batch.claim,
        ":attempts": next.attempts,
        ":notBefore": next.notBefore,
      },
    }),
  );
}

/**
 * A batch never sent of a command that stopped early: PENDING, or SENDING under a lease that ran
 * out (its sender died, and no one takes a batch over once the command stopped).
 */
export async function skipBatch(table: CommandTable, messageId: string, sk: string, now: number): Promise<void> {
  await conditional(
    table,
    new UpdateCommand({
      TableName: table.tableName,
      Key: { pk: commandPk(messageId), sk },
      UpdateExpression: "SET #state = :skipped REMOVE lease_until",
      ConditionExpression: "#state = :pending OR (#state = :sending AND lease_until < :now)",
      ExpressionAttributeNames: { "#state": "state" },
      ExpressionAttributeValues: { ":skipped": "SKIPPED", ":pending": "PENDING", ":sending": "SENDING", ":now": now },
    }),
  );
}

/** The sender of a claimed batch found the command stopped before calling GSE: the batch is never sent. */
export async function abandonBatch(table: CommandTable, batch: BatchClaim): Promise<boolean> {
  return conditional(
    table,
    new UpdateCommand({
      TableName: table.tableName,
      Key: { pk: commandPk(batch.messageId), sk: batch.sk },
      UpdateExpression: "SET #state = :skipped REMOVE lease_until",
      ConditionExpression: "#state = :sending AND claim = :claim",
      ExpressionAttributeNames: { "#state": "state" },
      ExpressionAttributeValues: { ":skipped": "SKIPPED", ":sending": "SENDING", ":claim": batch.claim },
    }),
  );
}
