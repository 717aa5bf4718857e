/**
 * Agent items (sk = agent#<id>): created by the first thing that happens to the agent (a delivery
 * failure, a reply, a reply timeout), then moved by retries (store/retries.ts), replies and reply
 * timeouts. Each move is conditional on the state it starts from, and moves the command's counters
 * in the same transaction when it changes them; an item created `by_batch` (items.ts) is counted
 * through its batch instead. (Commands from before `sparse_agents` had every agent's item written
 * PENDING before its batch was sent: prewriteAgents.)
 */
import { BatchGetCommand, BatchWriteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { BATCH_GET_MAX_KEYS, BATCH_WRITE_MAX_ITEMS, chunk, drainUnprocessed, runStatements, type Statement } from "../../dynamo/batch.ts";
import type { Page } from "../../dynamo/cursor.ts";
import type { AgentOutcome } from "../schemas.ts";
import { AGENT_PREFIX, agentCommandItemSchema, agentKey, agentPartitions, TTL, type AgentCommandItem, type AgentFailure, type AgentsOf } from "./items.ts";
import { commandDeltaUpdate } from "./command.ts";
import { memberBatch } from "./ids.ts";
import { conditional, queryPartitionsPage, transactConditional, type CommandTable, type PageRequest, type TransactItem } from "./table.ts";

/** The agents of one batch, about to be sent. */
export interface BatchAgents {
  readonly command: AgentsOf;
  readonly batch: number;
  readonly agentIds: readonly string[];
  readonly now: number;
  /** The command's own expiry: its agents go with it. */
  readonly expiresAt: number;
  /** No sender had the batch before (never claimed, never released): none of its agents has an item yet. */
  readonly firstSend: boolean;
}

/**
 * Each agent of a batch gets its item before the batch goes to GSE: replies always find one. A
 * batch's first sender writes them all at once (no item can exist yet); any later sender (a
 * takeover after a lease ran out, a resend after GSE refused the batch) creates only the missing
 * ones (PartiQL INSERT fails on an existing key): it finds agents replied, failed or retrying
 * already, and putting them back to PENDING would erase outcomes the command's counters count.
 */
export async function prewriteAgents(table: CommandTable, agents: BatchAgents): Promise<void> {
  if (agents.firstSend) await putAgents(table, agents);
  else await insertMissingAgents(table, agents);
}

/** An agent of a batch before its first send: what a prewrite creates. */
function pendingAgentItem({ command, batch, now, expiresAt }: BatchAgents, agentId: string) {
  return {
    ...agentKey(command, agentId),
    agent_id: agentId,
    batch,
    outcome: "PENDING",
    attempts: 1,
    updated_at: now,
    [TTL]: expiresAt,
  } satisfies AgentCommandItem;
}

async function insertMissingAgents(table: CommandTable, agents: BatchAgents): Promise<void> {
  const statementOf = (agentId: string): Statement => {
    const item = pendingAgentItem(agents, agentId);
    const names = Object.keys(item) as (keyof typeof item)[];
    return {
      Statement: `INSERT INTO "${table.tableName}" VALUE {${names.map((name) => `'${name}': ?`).join(", ")}}`,
      Parameters: names.map((name) => item[name]),
    };
  };
  // One statement per distinct agent: DynamoDB refuses a whole batch that names one key twice.
  const distinct = [...new Set(agents.agentIds)];
  const { failed } = await runStatements(table.client, table.limit, table.retry, distinct, { statementOf, expected: "DuplicateItem", onCall: () => undefined });
  if (failed > 0) throw new Error(`DynamoDB left ${failed} command agent items unwritten`);
}

async function putAgents(table: CommandTable, agents: BatchAgents): Promise<void> {
  const name = table.tableName;
  await Promise.all(
    chunk(agents.agentIds, BATCH_WRITE_MAX_ITEMS).map((part) =>
      table.limit(async () => {
        const items = part.map((agentId) => ({ PutRequest: { Item: pendingAgentItem(agents, agentId) } }));
        const left = await drainUnprocessed(
          items,
          async (requests) => {
            const out = await table.client.send(new BatchWriteCommand({ RequestItems: { [name]: [...requests] } }));
            return (out.UnprocessedItems?.[name] ?? []) as typeof items;
          },
          table.retry,
        );
        if (left.length > 0) throw new Error(`DynamoDB left ${left.length} command agent items unwritten`);
      }),
    ),
  );
}

/** When and where first delivery failures happen: their batch, and the command's expiry (an item they create goes with it). */
export interface FailureAt {
  readonly now: number;
  readonly batch: number;
  readonly expiresAt: number;
}

/** First delivery failures of a batch as recorded: how many, and of those how many wait for a retry. */
export interface FailureCount {
  readonly failed: number;
  readonly retrying: number;
}

/**
 * Records first delivery failures of a batch (agents still PENDING, or without an item yet): one
 * conditional write each, outside any transaction (a transactional write bills twice). They are
 * counted on the command by the batch's completion (batches.ts completeBatch), once: returns how
 * many this sender recorded. A sender taking the batch over counts them with firstFailures.
 */
export async function recordFailures(table: CommandTable, command: AgentsOf, failures: readonly AgentFailure[], at: FailureAt): Promise<FailureCount> {
  const recorded = await Promise.all(
    failures.map((failure) =>
      table.limit(async () => {
        const update = failureUpdate(table, { command, failure, from: ["PENDING"], attempts: 1, now: at.now, create: at }).Update;
        return update ? conditional(table, new UpdateCommand(update)) : false;
      }),
    ),
  );
  const kept = failures.filter((_, i) => recorded[i]);
  return { failed: kept.length, retrying: kept.filter((f) => !f.final).length };
}

/**
 * The first delivery failures recorded for a batch, whoever recorded them: what a sender that
 * took the batch over counts at its completion (its predecessor died before completing, so
 * none of them is counted yet). A predecessor cannot write after its lease ran out while the
 * lease outlasts the functions that send (COMMAND_LEASE_SECONDS ≥ their timeout).
 */
export async function firstFailures(table: CommandTable, command: AgentsOf, batch: { index: number; agentIds: readonly string[] }): Promise<FailureCount> {
  const items = [...(await agentsByIds(table, command, batch.agentIds)).values()].filter((a) => a.batch === batch.index && a.failed_first === true);
  return { failed: items.length, retrying: items.filter((a) => a.first_final !== true).length };
}

export async function getAgent(table: CommandTable, command: AgentsOf, agentId: string): Promise<AgentCommandItem | undefined> {
  const out = await table.client.send(new GetCommand({ TableName: table.tableName, Key: agentKey(command, agentId), ConsistentRead: true }));
  return out.Item ? agentCommandItemSchema.parse(out.Item) : undefined;
}

/** The items of the agents given that have one, by agent id (a sparse command's page of agents). */
export async function agentsByIds(table: CommandTable, command: AgentsOf, agentIds: readonly string[]): Promise<Map<string, AgentCommandItem>> {
  const found = new Map<string, AgentCommandItem>();
  const name = table.tableName;
  await Promise.all(
    chunk([...new Set(agentIds)], BATCH_GET_MAX_KEYS).map((part) =>
      table.limit(async () => {
        let keys: Record<string, unknown>[] | undefined = part.map((agentId) => agentKey(command, agentId));
        // Unprocessed keys come back under load: asked again until none is left.
        while (keys && keys.length > 0) {
          const out = await table.client.send(new BatchGetCommand({ RequestItems: { [name]: { Keys: keys, ConsistentRead: true } } }));
          for (const raw of out.Responses?.[name] ?? []) {
            const item = agentCommandItemSchema.parse(raw);
            found.set(item.agent_id, item);
          }
          keys = out.UnprocessedKeys?.[name]?.Keys as Record<string, unknown>[] | undefined;
        }
      }),
    ),
  );
  return found;
}

/** A FAILED or RETRYING agent of a command that stopped: no more attempts. */
export async function giveUp(table: CommandTable, command: AgentsOf, agentId: string, now: number): Promise<boolean> {
  return transactConditional(table, [
    {
      Update: {
        TableName: table.tableName,
        Key: agentKey(command, agentId),
        UpdateExpression: "SET outcome = :failed, #final = :yes, updated_at = :now",
        ConditionExpression: "outcome IN (:failed, :retrying) AND (attribute_not_exists(#final) OR #final = :no)",
        ExpressionAttributeNames: { "#final": "final" },
        ExpressionAttributeValues: { ":failed": "FAILED", ":retrying": "RETRYING", ":yes": true, ":no": false, ":now": now },
      },
    },
    commandDeltaUpdate(table, command.message_id, { pendingRetries: -1, inFlight: -1 }, now),
  ]);
}

export type ReplyResult = "replied" | "duplicate" | "not_targeted";

/** A reply as the store records it: its text, and whether the command's reply rule judged it a failure. */
export interface ReplyRecord {
  readonly text: string;
  readonly now: number;
  /** The command awaits replies: a reply settles its agent (leaves the window). */
  readonly tracked: boolean;
  /** The reply reports failure: FAILED for good, with the reply's code, and one more error. */
  readonly failure?: { readonly code: number; readonly message: string };
  /** The command writes no agent item before sending (items.ts): the agent's item may not exist yet, its membership says whether it was targeted. */
  readonly sparse?: { readonly hash: string; readonly targets: number; readonly expiresAt: number };
}

/** A reply's item as created for an agent that had none: REPLIED, or FAILED for good by the reply rule; `by_batch` when replies are awaited. */
function firstReplyItem(agent: { command: AgentsOf; agentId: string }, reply: ReplyRecord, at: { batch: number; expiresAt: number }): AgentCommandItem {
  const failure = reply.failure;
  return {
    ...agentKey(agent.command, agent.agentId),
    agent_id: agent.agentId,
    batch: at.batch,
    outcome: failure ? "FAILED" : "REPLIED",
    attempts: 1,
    reply: reply.text,
    replied_at: reply.now,
    updated_at: reply.now,
    ...(failure ? { code: failure.code, message: failure.message.slice(0, 500), final: true } : {}),
    ...(reply.tracked ? { by_batch: true } : {}),
    [TTL]: at.expiresAt,
  };
}

/**
 * The plugin answered. Only an agent we sent to, and only once; a reply may beat our own SENT, and
 * may come from an agent whose delivery we counted as failed (GSE's answer lost, the message
 * delivered after all): one waiting for a retry leaves the command's pending retries in the same
 * transaction, or settling would wait for a retry that never comes. The first word of an agent
 * without an item (the usual reply) creates it by one conditional write: with replies awaited
 * it is settled, and its failure counted, through its batch (lib/commands/reply-count.ts). A reply
 * to an item that exists (a retried agent, a legacy command's prewritten one) settles its agent
 * (in_flight - 1) in the transaction of its move; a failing one is an error, unless the agent's
 * failed delivery counted already.
 */
export async function markReplied(table: CommandTable, agent: { command: AgentsOf; agentId: string }, reply: ReplyRecord): Promise<ReplyResult> {
  if (reply.sparse) {
    const first = await firstReply(table, agent, { ...reply, sparse: reply.sparse });
    if (first !== undefined) return first;
  }
  const failure = reply.failure;
  const replied = (from: readonly AgentOutcome[], extra = "") => ({
    TableName: table.tableName,
    Key: agentKey(agent.command, agent.agentId),
    UpdateExpression: failure
      ? "SET outcome = :outcome, reply = :reply, replied_at = :now, updated_at = :now, code = :code, message = :message, #final = :yes REMOVE retry_at"
      : "SET outcome = :outcome, reply = :reply, replied_at = :now, updated_at = :now REMOVE code, message, retry_at",
    ConditionExpression: `attribute_exists(sk) AND outcome IN (${from.map((_, i) => `:from${i}`).join(", ")})${extra}`,
    ...(extra || failure ? { ExpressionAttributeNames: { "#final": "final" } } : {}),
    ExpressionAttributeValues: {
      ":outcome": failure ? "FAILED" : "REPLIED",
      ":reply": reply.text,
      ":now": reply.now,
      ...Object.fromEntries(from.map((o, i) => [`:from${i}`, o])),
      ...(extra ? { ":no": false } : {}),
      ...(failure ? { ":code": failure.code, ":message": failure.message.slice(0, 500), ":yes": true } : {}),
    },
  });
  const settles = reply.tracked ? -1 : 0;
  const first = replied(["PENDING", "SENT"]);
  const firstDelta = { inFlight: settles, errors: failure ? 1 : 0 };
  const done =
    firstDelta.inFlight === 0 && firstDelta.errors === 0
      ? await conditional(table, new UpdateCommand(first))
      : await transactConditional(table, [{ Update: first }, commandDeltaUpdate(table, agent.command.message_id, firstDelta, reply.now)]);
  if (done) return "replied";
  // Waiting for a retry: in flight whatever the tracking (its retry had not ended); its failed delivery counted as its error.
  const waiting = replied(["FAILED", "RETRYING"], " AND (attribute_not_exists(#final) OR #final = :no)");
  if (
    await transactConditional(table, [
      { Update: waiting },
      commandDeltaUpdate(table, agent.command.message_id, { pendingRetries: -1, inFlight: -1 }, reply.now),
    ])
  )
    return "replied";
  return (await getAgent(table, agent.command, agent.agentId)) ? "duplicate" : "not_targeted";
}

/**
 * The first word of an agent of a sparse command: its item created (REPLIED, or FAILED by the
 * reply rule), once (a second reply finds it and is a duplicate), with no counter write. Undefined
 * when the agent has an item already (a failure recorded): the caller moves it as any other.
 */
async function firstReply(
  table: CommandTable,
  agent: { command: AgentsOf; agentId: string },
  reply: ReplyRecord & { sparse: NonNullable<ReplyRecord["sparse"]> },
): Promise<ReplyResult | undefined> {
  const batch = await memberBatch(table, { messageId: agent.command.message_id, hash: reply.sparse.hash, targets: reply.sparse.targets }, agent.agentId);
  if (batch === undefined) return "not_targeted";
  const item = firstReplyItem(agent, reply, { batch, expiresAt: reply.sparse.expiresAt });
  const created = await conditional(table, new PutCommand({ TableName: table.tableName, Item: item, ConditionExpression: "attribute_not_exists(sk)" }));
  return created ? "replied" : undefined;
}

/** No reply within the command's timeout: an error, and the agent leaves the window. */
export async function markTimedOut(table: CommandTable, command: AgentsOf, agentId: string, now: number): Promise<boolean> {
  return transactConditional(table, [
    {
      Update: {
        TableName: table.tableName,
        Key: agentKey(command, agentId),
        UpdateExpression: "SET outcome = :timedOut, updated_at = :now",
        ConditionExpression: "outcome IN (:pending, :sent)",
        ExpressionAttributeValues: { ":timedOut": "TIMED_OUT", ":pending": "PENDING", ":sent": "SENT", ":now": now },
      },
    },
    commandDeltaUpdate(table, command.message_id, { errors: 1, inFlight: -1 }, now),
  ]);
}

/**
 * No reply within the command's timeout from an agent that has no item (its batch went out
 * `timeoutMs` ago): TIMED_OUT `by_batch`, only while it has none (a reply that came first wins).
 * Counted (an error, out of the window) with its batch.
 */
export async function timeOutByBatch(
  table: CommandTable,
  command: AgentsOf,
  agent: { agentId: string; batch: number; now: number; expiresAt: number },
): Promise<boolean> {
  const item: AgentCommandItem = {
    ...agentKey(command, agent.agentId),
    agent_id: agent.agentId,
    batch: agent.batch,
    outcome: "TIMED_OUT",
    attempts: 1,
    by_batch: true,
    updated_at: agent.now,
    [TTL]: agent.expiresAt,
  };
  // Many batches time out at once at scale: their puts share the table's concurrency limit.
  return table.limit(() => conditional(table, new PutCommand({ TableName: table.tableName, Item: item, ConditionExpression: "attribute_not_exists(sk)" })));
}

/** What counting and the watchdog read of an agent: everything but its reply and GSE's message. */
const COUNTING_PROJECTION = {
  ProjectionExpression: "pk, sk, agent_id, #batch, outcome, attempts, #final, updated_at, retry_at, claimed_at, by_batch, #ttl",
  ExpressionAttributeNames: { "#batch": "batch", "#final": "final", "#ttl": TTL },
};

/** Every agent item of the command, a page at a time, partition by partition (projection keeps it small). */
export async function* agentItems(table: CommandTable, command: AgentsOf, projection: boolean): AsyncGenerator<AgentCommandItem[]> {
  for (const pk of agentPartitions(command)) {
    let start: Record<string, unknown> | undefined;
    do {
      const out = await table.client.send(
        new QueryCommand({
          TableName: table.tableName,
          KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
          ExpressionAttributeValues: { ":pk": pk, ":prefix": AGENT_PREFIX },
          ...(projection ? COUNTING_PROJECTION : {}),
          ExclusiveStartKey: start,
        }),
      );
      yield (out.Items ?? []).map((item) => agentCommandItemSchema.parse(item));
      start = out.LastEvaluatedKey;
    } while (start);
  }
}

/** One page of agent items, optionally of one stored outcome: partition by partition, by agent id within each. */
export async function agentPage(
  table: CommandTable,
  command: AgentsOf,
  options: PageRequest & { outcomes?: readonly AgentOutcome[] },
): Promise<Page<AgentCommandItem>> {
  const filter = options.outcomes && options.outcomes.length > 0 ? options.outcomes : undefined;
  return queryPartitionsPage(table, { partitions: agentPartitions(command), schema: agentCommandItemSchema }, options, (pk) => ({
    KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
    ExpressionAttributeValues: { ":pk": pk, ":prefix": AGENT_PREFIX, ...(filter ? Object.fromEntries(filter.map((o, i) => [`:o${i}`, o])) : {}) },
    ...(filter ? { FilterExpression: `outcome IN (${filter.map((_, i) => `:o${i}`).join(", ")})` } : {}),
  }));
}

/**
 * An agent's move to FAILED, only from the outcomes `from` and at the attempt count it was sent
 * with; with `create`, also an agent that has no item yet (a first delivery of a sparse command).
 */
export function failureUpdate(
  table: CommandTable,
  change: {
    command: AgentsOf;
    failure: AgentFailure;
    from: readonly AgentOutcome[];
    attempts: number;
    now: number;
    create?: { batch: number; expiresAt: number };
  },
): TransactItem {
  const { failure, from, create } = change;
  const fromValues = Object.fromEntries(from.map((o, i) => [`:from${i}`, o]));
  const moved = `outcome IN (${from.map((_, i) => `:from${i}`).join(", ")}) AND attempts = :attempts`;
  return {
    Update: {
      TableName: table.tableName,
      Key: agentKey(change.command, failure.agentId),
      UpdateExpression: `SET outcome = :failed, code = :code, message = :message, #final = :final, updated_at = :now${
        create ? ", agent_id = :agent, #batch = :batch, attempts = :attempts, #ttl = :ttl, failed_first = :yes, first_final = :final" : ""
      }`,
      ConditionExpression: create ? `attribute_not_exists(sk) OR (${moved})` : `attribute_exists(sk) AND ${moved}`,
      ExpressionAttributeNames: { "#final": "final", ...(create ? { "#batch": "batch", "#ttl": TTL } : {}) },
      ExpressionAttributeValues: {
        ":failed": "FAILED",
        ":code": failure.code,
        ":message": failure.message.slice(0, 500),
        ":final": failure.final,
        ":now": change.now,
        ":attempts": change.attempts,
        ...fromValues,
        ...(create ? { ":agent": failure.agentId, ":batch": create.batch, ":ttl": create.expiresAt, ":yes": true } : {}),
      },
    },
  };
}
