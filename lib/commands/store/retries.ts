/**
 * Retries as the store keeps them: each RETRYING agent has an entry (sk = retry#<due>#<agent>),
 * under its own item's partition key (a command's agent shards: 100k failures' entries do not
 * land on one key), so a round finds the agents due by one query a key, merged in due order,
 * without reading its other agents; one marker per due time (sk = retryjob#<due>) makes the round's job
 * queued once; a lease on the command lets one round run at a time. The agent's own item stays the
 * truth: an entry whose agent moved on (replied, given up, claimed by another round) is dropped.
 */
import { BatchWriteCommand, GetCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { BATCH_WRITE_MAX_ITEMS, chunk, drainUnprocessed } from "../../dynamo/batch.ts";
import { isConditionFailure } from "../../dynamo/conditions.ts";
import { failureUpdate } from "./agents.ts";
import { commandDeltaUpdate } from "./command.ts";
import {
  agentKey,
  agentPartitions,
  agentPk,
  commandItemSchema,
  commandPk,
  META_SK,
  RETRY_PREFIX,
  retryEntrySchema,
  retryJobSk,
  RETRY_LOCK_SK,
  retrySk,
  TTL,
  type AgentAttempt,
  type AgentFailure,
  type AgentsOf,
  type CommandItem,
  type RetryEntry,
} from "./items.ts";
import { conditional, queryPage, transact, transactConditional, type CommandTable, type TransactItem } from "./table.ts";

/** When a retry is due, and when the command (and so the entry) expires. */
export interface RetryDue {
  readonly due: number;
  readonly now: number;
  readonly expiresAt: number;
}

/** What one round's GSE calls came to, per claimed agent (attempts: the count after the claim). */
export interface RetryResults {
  readonly delivered: readonly AgentAttempt[];
  readonly failures: readonly { readonly failure: AgentFailure; readonly attempts: number }[];
}

/** A transaction holds 100 writes: 99 agents and the command's counters. */
const AGENTS_PER_TRANSACTION = 99;

function entryPut(table: CommandTable, agent: AgentAttempt, at: RetryDue): TransactItem {
  const item: RetryEntry = {
    pk: agentPk(agent.command, agent.agentId),
    sk: retrySk(at.due, agent.agentId),
    agent_id: agent.agentId,
    due: at.due,
    attempts: agent.attempts,
    [TTL]: at.expiresAt,
  };
  return { Put: { TableName: table.tableName, Item: item } };
}

/** What scheduling a retry needs of the command: not its content, which a round reads once. */
export type RetryCommand = Pick<CommandItem, "message_id" | "status" | "max_attempts" | "expires_at" | "agent_shards">;

/** The command as scheduling a retry reads it, once per failed agent: its content left out. */
export async function retryCommand(table: CommandTable, messageId: string): Promise<RetryCommand | undefined> {
  const out = await table.client.send(
    new GetCommand({
      TableName: table.tableName,
      Key: { pk: commandPk(messageId), sk: META_SK },
      ProjectionExpression: "message_id, #status, max_attempts, agent_shards, #ttl",
      ExpressionAttributeNames: { "#status": "status", "#ttl": TTL },
      ConsistentRead: true,
    }),
  );
  return out.Item ? retryCommandSchema.parse(out.Item) : undefined;
}

const retryCommandSchema = commandItemSchema.pick({ message_id: true, status: true, max_attempts: true, agent_shards: true, [TTL]: true });

/** Recovery took a FAILED agent in hand: RETRYING, due at `due`, with its entry (one transaction). */
export async function markRetrying(table: CommandTable, agent: AgentAttempt, at: RetryDue): Promise<boolean> {
  return transactConditional(table, [
    {
      Update: {
        TableName: table.tableName,
        Key: agentKey(agent.command, agent.agentId),
        UpdateExpression: "SET outcome = :retrying, retry_at = :at, updated_at = :now",
        ConditionExpression: "outcome = :failed AND attempts = :attempts AND (attribute_not_exists(#final) OR #final = :no)",
        ExpressionAttributeNames: { "#final": "final" },
        ExpressionAttributeValues: { ":retrying": "RETRYING", ":failed": "FAILED", ":attempts": agent.attempts, ":at": at.due, ":now": at.now, ":no": false },
      },
    },
    entryPut(table, agent, at),
  ]);
}

/** A RETRYING agent whose round never came (its job lost, or its round died after the claim): due again at `due`. */
export async function rearmRetry(table: CommandTable, agent: AgentAttempt, at: RetryDue): Promise<boolean> {
  return transactConditional(table, [
    {
      Update: {
        TableName: table.tableName,
        Key: agentKey(agent.command, agent.agentId),
        UpdateExpression: "SET retry_at = :at, updated_at = :now",
        ConditionExpression: "outcome = :retrying AND attempts = :attempts",
        ExpressionAttributeValues: { ":retrying": "RETRYING", ":attempts": agent.attempts, ":at": at.due, ":now": at.now },
      },
    },
    entryPut(table, agent, at),
  ]);
}

/** The one job of this due time: true for the first caller only, who queues it. */
export async function claimRetryJob(table: CommandTable, messageId: string, at: Omit<RetryDue, "now">): Promise<boolean> {
  return conditional(
    table,
    new PutCommand({
      TableName: table.tableName,
      Item: { pk: commandPk(messageId), sk: retryJobSk(at.due), due: at.due, [TTL]: at.expiresAt },
      ConditionExpression: "attribute_not_exists(sk)",
    }),
  );
}

/**
 * Up to `limit` entries due by `now`, earliest first: from each of the keys they spread over (the
 * command's agent keys), merged by due time.
 */
export async function dueRetries(table: CommandTable, command: AgentsOf, now: number, limit: number): Promise<RetryEntry[]> {
  const perKey = await Promise.all(agentPartitions(command).map((pk) => table.limit(() => dueUnder(table, pk, now, limit))));
  return perKey
    .flat()
    .sort((a, b) => (a.sk < b.sk ? -1 : a.sk > b.sk ? 1 : 0))
    .slice(0, limit);
}

/** The first `limit` entries of one key due by `now`: one page of the paged query every listing uses. */
async function dueUnder(table: CommandTable, pk: string, now: number, limit: number): Promise<RetryEntry[]> {
  const page = await queryPage(
    table,
    { pk, schema: retryEntrySchema },
    { limit, cursor: undefined },
    {
      KeyConditionExpression: "pk = :pk AND sk BETWEEN :from AND :to",
      // "$" sorts right after "#": every entry of the due time `now` is in, none of a later one.
      ExpressionAttributeValues: { ":pk": pk, ":from": RETRY_PREFIX, ":to": `${retrySk(now, "").slice(0, -1)}$` },
      ConsistentRead: true,
    },
  );
  return page.items;
}

/**
 * Takes the command's retry lease for `holder` (free, run out, or its own); false while another
 * round holds it. The lease is an item of its own (sk = retrylock): the command's item carries its
 * content and every counter transaction, and a lease write there would conflict with them.
 */
export async function lockRetries(
  table: CommandTable,
  messageId: string,
  holder: string,
  lease: { now: number; leaseMs: number; expiresAt: number },
): Promise<boolean> {
  return conditional(
    table,
    new UpdateCommand({
      TableName: table.tableName,
      Key: { pk: commandPk(messageId), sk: RETRY_LOCK_SK },
      UpdateExpression: "SET retry_lock = :holder, retry_lock_until = :until, #ttl = :expires",
      ConditionExpression: "attribute_not_exists(retry_lock_until) OR retry_lock_until < :now OR retry_lock = :holder",
      ExpressionAttributeNames: { "#ttl": TTL },
      ExpressionAttributeValues: { ":holder": holder, ":until": lease.now + lease.leaseMs, ":now": lease.now, ":expires": lease.expiresAt },
    }),
  );
}

/**
 * While another round holds the lease: asks it to run once more when it is done (`retry_again`,
 * the latest due time asked for). False when the lease is no longer held, or a later due time is
 * asked for already (then this one is covered).
 */
export async function askRetryAgain(table: CommandTable, messageId: string, at: { due: number; now: number }): Promise<boolean> {
  return conditional(
    table,
    new UpdateCommand({
      TableName: table.tableName,
      Key: { pk: commandPk(messageId), sk: RETRY_LOCK_SK },
      UpdateExpression: "SET retry_again = :due",
      ConditionExpression: "retry_lock_until >= :now AND (attribute_not_exists(retry_again) OR retry_again < :due)",
      ExpressionAttributeValues: { ":due": at.due, ":now": at.now },
    }),
  );
}

/** Gives the lease back (only the holder's own); returns the due time a round asked to run again for, if any. */
export async function unlockRetries(table: CommandTable, messageId: string, holder: string): Promise<number | undefined> {
  try {
    const out = await table.client.send(
      new UpdateCommand({
        TableName: table.tableName,
        Key: { pk: commandPk(messageId), sk: RETRY_LOCK_SK },
        UpdateExpression: "REMOVE retry_lock, retry_lock_until, retry_again",
        ConditionExpression: "retry_lock = :holder",
        ExpressionAttributeValues: { ":holder": holder },
        ReturnValues: "UPDATED_OLD",
      }),
    );
    const again = out.Attributes?.retry_again;
    return typeof again === "number" ? again : undefined;
  } catch (error) {
    if (isConditionFailure(error)) return undefined;
    throw error;
  }
}

/**
 * Claims attempt n+1 of each entry's agent (still RETRYING at n); returns the entries claimed. A
 * second round, or a redelivered job, finds the attempts moved on and claims nothing.
 */
export async function claimRetries(table: CommandTable, command: AgentsOf, entries: readonly RetryEntry[], now: number): Promise<RetryEntry[]> {
  const claimed = await Promise.all(
    entries.map((entry) =>
      table.limit(() =>
        conditional(
          table,
          new UpdateCommand({
            TableName: table.tableName,
            Key: agentKey(command, entry.agent_id),
            UpdateExpression: "SET attempts = :next, claimed_at = :now, updated_at = :now",
            ConditionExpression: "outcome = :retrying AND attempts = :attempts",
            ExpressionAttributeValues: { ":retrying": "RETRYING", ":attempts": entry.attempts, ":next": entry.attempts + 1, ":now": now },
          }),
        ),
      ),
    ),
  );
  return entries.filter((_, i) => claimed[i]);
}

/**
 * Records a round: delivered agents SENT, failed ones FAILED (recovery schedules the next round)
 * or FAILED for good; the command's pending retries drop by the agents done retrying, in the same
 * transactions of up to 99 agents.
 */
export async function recordRetries(table: CommandTable, command: AgentsOf, results: RetryResults, now: number, tracked = false): Promise<void> {
  const messageId = command.message_id;
  // Done retrying: delivered, or failed for good. Settled (out of the window): failed for good, or delivered to a command that awaits no reply.
  const changes: { item: TransactItem; done: boolean; settled: boolean }[] = [
    ...results.delivered.map((agent) => ({ item: deliveredUpdate(table, agent, now), done: true, settled: !tracked })),
    ...results.failures.map(({ failure, attempts }) => ({
      item: failureUpdate(table, { command, failure, from: ["RETRYING"], attempts, now }),
      done: failure.final,
      settled: failure.final,
    })),
  ];
  const delta = (part: readonly { done: boolean; settled: boolean }[]) => {
    const done = part.filter((c) => c.done).length;
    const settled = part.filter((c) => c.settled).length;
    return done > 0 || settled > 0 ? [commandDeltaUpdate(table, messageId, { pendingRetries: -done, inFlight: -settled }, now)] : [];
  };
  for (const part of chunk(changes, AGENTS_PER_TRANSACTION)) {
    try {
      await transact(table, [...part.map((c) => c.item), ...delta(part)]);
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      // Some agent moved on meanwhile (a reply came): record the others one by one.
      for (const change of part) await transactConditional(table, [change.item, ...delta([change])]);
    }
  }
}

function deliveredUpdate(table: CommandTable, agent: AgentAttempt, now: number): TransactItem {
  return {
    Update: {
      TableName: table.tableName,
      Key: agentKey(agent.command, agent.agentId),
      UpdateExpression: "SET outcome = :sent, updated_at = :now REMOVE code, message, retry_at",
      ConditionExpression: "outcome = :retrying AND attempts = :attempts",
      ExpressionAttributeValues: { ":sent": "SENT", ":retrying": "RETRYING", ":attempts": agent.attempts, ":now": now },
    },
  };
}

/** Entries a round is done with (sent, or stale): gone, 25 to a call. */
export async function dropRetryEntries(table: CommandTable, entries: readonly RetryEntry[]): Promise<void> {
  const name = table.tableName;
  await Promise.all(
    chunk(entries, BATCH_WRITE_MAX_ITEMS).map((part) =>
      table.limit(async () => {
        const requests = part.map((e) => ({ DeleteRequest: { Key: { pk: e.pk, sk: e.sk } } }));
        const left = await drainUnprocessed(
          requests,
          async (batch) => {
            const out = await table.client.send(new BatchWriteCommand({ RequestItems: { [name]: [...batch] } }));
            return (out.UnprocessedItems?.[name] ?? []) as typeof requests;
          },
          table.retry,
        );
        if (left.length > 0) throw new Error(`DynamoDB left ${left.length} retry entries undeleted`);
      }),
    ),
  );
}
