/**
 * Batch items (sk = batch#<hash>#<n>): written PENDING with the command, claimed by one sender
 * under a lease, then SENT (counted on the command once), released for a later resend, or SKIPPED.
 * They hold the send state only; each batch's agent ids are in an ids item written once (ids.ts),
 * so the three writes of a batch's life are each billed as one small item.
 */
import { TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import { GetCommand, PutCommand, UpdateCommand, paginateQuery } from "@aws-sdk/lib-dynamodb";
import { isConditionFailure } from "../../dynamo/conditions.ts";
import { batchItemSchema, batchPrefix, commandPk, META_SK, TTL, type BatchClaim, type BatchItem } from "./items.ts";
import { commandDeltaUpdate } from "./command.ts";
import { conditional, transact, transactConditional, type CommandTable, type TransactItem } from "./table.ts";
import { idsItem, memberItems, putIdsItems, readBatchIds } from "./ids.ts";

/** Every attribute but the agent ids: what the send loop and the counts need of a batch. */
const WITHOUT_IDS = {
  ProjectionExpression: "pk, sk, #index, #size, #state, claim, lease_until, sent_at, failed, settled, reply_errors, reply_timeouts, attempts, not_before, #ttl",
  ExpressionAttributeNames: { "#index": "index", "#size": "size", "#state": "state", "#ttl": TTL },
};

/** What a command's batches are written with: its key parts, its expiry, and whether its agents are sparse (members written). */
export interface BatchesOf {
  readonly messageId: string;
  readonly hash: string;
  readonly expiresAt: number;
  readonly members: boolean;
}

/**
 * Writes the batches that do not exist yet (a second identical submission writes none): each
 * one's state item and ids item, and the members buckets of a sparse command.
 */
export async function putBatches(table: CommandTable, of: BatchesOf, items: readonly BatchItem[]): Promise<void> {
  const ids = items.map((item) => item.agent_ids ?? []);
  const states = items.map(({ agent_ids: _, ...state }) => state);
  await Promise.all([
    putIdsItems(table, [...items.map((item, i) => idsItem(of, item.index, ids[i] ?? [])), ...(of.members ? memberItems(of, ids) : [])]),
    ...states.map((item) =>
      table.limit(() => conditional(table, new PutCommand({ TableName: table.tableName, Item: item, ConditionExpression: "attribute_not_exists(sk)" }))),
    ),
  ]);
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
  return withIds ? withAgentIds(table, command.messageId, items) : items;
}

/** Batches with their agent ids, from their ids items (a batch written before those existed carries them itself). */
async function withAgentIds(table: CommandTable, messageId: string, batches: readonly BatchItem[]): Promise<BatchItem[]> {
  const missing = batches.filter((b) => b.agent_ids === undefined);
  const ids = missing.length > 0 ? await readBatchIds(table, messageId, missing) : new Map<number, string[]>();
  return batches.map((b) => (b.agent_ids !== undefined ? b : { ...b, agent_ids: ids.get(b.index) ?? [] }));
}

export async function getBatch(table: CommandTable, messageId: string, sk: string): Promise<BatchItem | undefined> {
  const out = await table.client.send(new GetCommand({ TableName: table.tableName, Key: { pk: commandPk(messageId), sk }, ConsistentRead: true }));
  return out.Item ? batchItemSchema.parse(out.Item) : undefined;
}

/** Why a claim got no batch: another sender has it, or the command's window (or state) refuses it. */
export type ClaimRefusal = "taken" | "window";

/** The command's side of a first claim: it runs, is not paused, is within max_errors, and the batch fits in the window. */
function windowClaim(table: CommandTable, batch: BatchClaim, size: number, room: number, now: number): TransactItem {
  return {
    Update: {
      TableName: table.tableName,
      Key: { pk: commandPk(batch.messageId), sk: META_SK },
      // A claim answers the settles that asked for a tick: the next settle with room may ask again.
      UpdateExpression: "SET updated_at = :now ADD in_flight :size REMOVE tick_requested_at",
      ConditionExpression:
        "#status = :running AND (attribute_not_exists(paused) OR paused = :no) AND (attribute_not_exists(in_flight) OR in_flight <= :room) " +
        "AND (attribute_type(max_errors, :null) OR errors <= max_errors)",
      ExpressionAttributeNames: { "#status": "status" },
      ExpressionAttributeValues: { ":running": "RUNNING", ":no": false, ":room": room, ":size": size, ":null": "NULL", ":now": now },
    },
  };
}

/**
 * Claims a batch for sending. A PENDING batch enters the command's in-flight window in the same
 * transaction (docs/rollouts.md §1): only while `in_flight <= max_concurrency - size`, the
 * command runs unpaused and within max_errors. A SENDING batch whose lease ran out (its sender
 * died) is taken over without adding: it is in the window already. Returns the batch with its
 * ids, or why not.
 */
export async function claimBatch(
  table: CommandTable,
  batch: BatchClaim & { state: BatchItem["state"]; size: number },
  lease: { now: number; leaseMs: number; maxConcurrency: number },
): Promise<BatchItem | ClaimRefusal> {
  const key = { pk: commandPk(batch.messageId), sk: batch.sk };
  const values = { ":sending": "SENDING", ":claim": batch.claim, ":lease": lease.now + lease.leaseMs };
  if (batch.state === "SENDING") {
    const taken = await conditional(
      table,
      new UpdateCommand({
        TableName: table.tableName,
        Key: key,
        UpdateExpression: "SET claim = :claim, lease_until = :lease",
        ConditionExpression: "#state = :sending AND lease_until < :now",
        ExpressionAttributeNames: { "#state": "state" },
        ExpressionAttributeValues: { ...values, ":now": lease.now },
      }),
    );
    return taken ? claimed(table, batch) : "taken";
  }
  const claim: TransactItem = {
    Update: {
      TableName: table.tableName,
      Key: key,
      UpdateExpression: "SET #state = :sending, claim = :claim, lease_until = :lease",
      ConditionExpression: "#state = :pending",
      ExpressionAttributeNames: { "#state": "state" },
      ExpressionAttributeValues: { ...values, ":pending": "PENDING" },
    },
  };
  try {
    await transact(table, [claim, windowClaim(table, batch, batch.size, lease.maxConcurrency - batch.size, lease.now)]);
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
    // The reasons are in item order: the batch's own condition first.
    const reasons = error instanceof TransactionCanceledException ? (error.CancellationReasons ?? []) : [];
    return reasons[0]?.Code === "ConditionalCheckFailed" ? "taken" : "window";
  }
  return claimed(table, batch);
}

/** The batch just claimed, with its agent ids. */
async function claimed(table: CommandTable, batch: BatchClaim): Promise<BatchItem | ClaimRefusal> {
  const item = await getBatch(table, batch.messageId, batch.sk);
  return item ? ((await withAgentIds(table, batch.messageId, [item]))[0] ?? "taken") : "taken";
}

/** What a batch's completion counts on the command: its first delivery failures (and of those, the ones waiting for a retry), and its agents settled on delivery. */
export interface BatchSent {
  readonly failed: number;
  readonly retrying?: number;
  readonly now: number;
  readonly settled?: number;
}

/**
 * The batch is sent (its failures recorded): it counts as done on the command, once, with its
 * failures (errors, pending retries; a final one leaves the window) in the same transaction.
 */
export async function completeBatch(table: CommandTable, batch: BatchClaim, sent: BatchSent): Promise<boolean> {
  const retrying = sent.retrying ?? 0;
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
    // Without reply tracking its delivered agents settle here (settled: how many); so do its final failures.
    commandDeltaUpdate(
      table,
      batch.messageId,
      { batchesDone: 1, errors: sent.failed, pendingRetries: retrying, inFlight: -(sent.settled ?? 0) - (sent.failed - retrying) },
      sent.now,
    ),
  ]);
}

/**
 * GSE refused the whole batch for a passing reason (5xx, 429, timeout): it goes back to PENDING,
 * to be sent again, whole, from `notBefore`.
 */
export async function releaseBatch(
  table: CommandTable,
  batch: BatchClaim,
  next: { attempts: number; notBefore: number; size: number; now: number },
): Promise<boolean> {
  // It leaves the window with its agents; its next claim brings them in again.
  return transactConditional(table, [
    {
      Update: {
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
      },
    },
    commandDeltaUpdate(table, batch.messageId, { inFlight: -next.size }, next.now),
  ]);
}

/**
 * A batch never sent of a command that stopped early: PENDING, or SENDING under a lease that ran
 * out (its sender died, and no one takes a batch over once the command stopped).
 */
export async function skipBatch(table: CommandTable, messageId: string, batch: Pick<BatchItem, "sk" | "state" | "size">, now: number): Promise<void> {
  const skip = (condition: string, values: Record<string, unknown>) => ({
    TableName: table.tableName,
    Key: { pk: commandPk(messageId), sk: batch.sk },
    UpdateExpression: "SET #state = :skipped REMOVE lease_until",
    ConditionExpression: condition,
    ExpressionAttributeNames: { "#state": "state" },
    ExpressionAttributeValues: { ":skipped": "SKIPPED", ...values },
  });
  if (batch.state === "PENDING") {
    await conditional(table, new UpdateCommand(skip("#state = :pending", { ":pending": "PENDING" })));
    return;
  }
  // A dead sender's batch was in the window: it leaves it. (Any of its agents that settled on their
  // own were subtracted already: the sweep's recount mends that rare excess.)
  await transactConditional(table, [
    { Update: skip("#state = :sending AND lease_until < :now", { ":sending": "SENDING", ":now": now }) },
    commandDeltaUpdate(table, messageId, { inFlight: -batch.size }, now),
  ]);
}

/** The sender of a claimed batch found the command stopped before calling GSE: the batch is never sent. */
export async function abandonBatch(table: CommandTable, batch: BatchClaim, at: { size: number; now: number }): Promise<boolean> {
  return transactConditional(table, [
    {
      Update: {
        TableName: table.tableName,
        Key: { pk: commandPk(batch.messageId), sk: batch.sk },
        UpdateExpression: "SET #state = :skipped REMOVE lease_until",
        ConditionExpression: "#state = :sending AND claim = :claim",
        ExpressionAttributeNames: { "#state": "state" },
        ExpressionAttributeValues: { ":skipped": "SKIPPED", ":sending": "SENDING", ":claim": batch.claim },
      },
    },
    commandDeltaUpdate(table, batch.messageId, { inFlight: -at.size }, at.now),
  ]);
}

/** A SENT batch's count of its agents settled `by_batch`: as last written (`from`), and as counted now (`to`, with its timeouts). */
export interface SettledCount {
  readonly from: { readonly settled: number; readonly errors: number };
  readonly to: { readonly settled: number; readonly errors: number; readonly timeouts: number };
  readonly now: number;
}

/**
 * Moves the command's counters by what a batch's agents settled `by_batch` since its last count
 * (in_flight down, errors up), and the batch's count to the new one (its timeouts too, which the
 * counters do not need but a count from the batches alone does), in one transaction. The
 * condition on the count as read makes a second counter (a racing tick, a re-run after a crash
 * between reading and writing) change nothing: it counts again from what won. False then.
 */
export async function countSettled(table: CommandTable, messageId: string, batch: Pick<BatchItem, "sk">, count: SettledCount): Promise<boolean> {
  const { from, to } = count;
  const unread = from.settled === 0 ? "(attribute_not_exists(settled) OR settled = :from)" : "settled = :from";
  return transactConditional(table, [
    {
      Update: {
        TableName: table.tableName,
        Key: { pk: commandPk(messageId), sk: batch.sk },
        UpdateExpression: "SET settled = :to, reply_errors = :errors, reply_timeouts = :timeouts",
        ConditionExpression: `#state = :sent AND ${unread}`,
        ExpressionAttributeNames: { "#state": "state" },
        ExpressionAttributeValues: { ":sent": "SENT", ":from": from.settled, ":to": to.settled, ":errors": to.errors, ":timeouts": to.timeouts },
      },
    },
    commandDeltaUpdate(table, messageId, { inFlight: -(to.settled - from.settled), errors: to.errors - from.errors }, count.now),
  ]);
}
