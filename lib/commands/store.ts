/**
 * CommandStore: the commands table (lib/resources.ts TABLES.commands) as the engine, the API and
 * recovery use it. Each method is one read or one conditional write of one item kind, and lives
 * with that kind under store/:
 *
 *   store/items.ts    every item's schema and key, and the values the writes take
 *   store/command.ts  the command itself (sk = meta): create, counters, finish, counts, alert claim
 *   store/batches.ts  its batches: claimed under a lease, sent, released, skipped
 *   store/ids.ts      its batches' agent ids (written once, gzipped) and members by id hash
 *   store/agents.ts   its agents (spread over agent_shards keys): prewritten (legacy), failed, replied, timed out
 *   store/retries.ts  its retries: entries by due time, the one job per due time, the round's lease
 *   store/listing.ts  the index of every command (listing, the sweep)
 *   store/upstream.ts messages no command asked for
 *   store/table.ts    what they share: conditional writes, transactions, paged queries
 */
import type { Page } from "../dynamo/cursor.ts";
import { BatchTable, type BatchStoreOptions } from "../dynamo/batch.ts";
import type { AgentOutcome, CommandStatus } from "./schemas.ts";
import type {
  AgentAttempt,
  AgentCommandItem,
  AgentFailure,
  AgentsOf,
  BatchClaim,
  BatchItem,
  CommandDelta,
  CommandItem,
  IndexItem,
  RetryEntry,
  UpstreamItem,
} from "./store/items.ts";
import type { CommandTable, PageRequest } from "./store/table.ts";
import * as agents from "./store/agents.ts";
import * as batches from "./store/batches.ts";
import * as command from "./store/command.ts";
import * as ids from "./store/ids.ts";
import * as listing from "./store/listing.ts";
import * as retries from "./store/retries.ts";
import * as upstream from "./store/upstream.ts";

export * from "./store/items.ts";
export type { BatchAgents, FailureAt, FailureCount, ReplyRecord, ReplyResult } from "./store/agents.ts";
export type { BatchesOf, BatchSent, ClaimRefusal } from "./store/batches.ts";
export type { RetryCommand, RetryDue, RetryResults } from "./store/retries.ts";
export type { FinalCounts, FinishFields } from "./store/command.ts";
export type { PageRequest } from "./store/table.ts";
export type { Page };

/** DynamoDB calls in flight per command store (the cost model times a dispatch by it). */
export const COMMAND_TABLE_CONCURRENCY = 16;

export class CommandStore {
  readonly tableName: string;
  private readonly table: CommandTable;

  constructor(options: BatchStoreOptions) {
    this.tableName = options.tableName;
    this.table = new BatchTable(options, COMMAND_TABLE_CONCURRENCY);
  }

  /** The table itself, for the alert outbox: a final alert is written in one transaction with the command's mark. */
  get outboxTable(): { readonly client: BatchTable["client"]; readonly tableName: string } {
    return { client: this.table.client, tableName: this.tableName };
  }

  // --- the command (store/command.ts) -----------------------------------------------------------

  /** Creates the command and its index entry; false when one with this message_id exists. */
  createCommand(item: CommandItem): Promise<boolean> {
    return command.createCommand(this.table, item);
  }

  getCommand(messageId: string): Promise<CommandItem | undefined> {
    return command.getCommand(this.table, messageId);
  }

  /** Adds to the command's counters; returns the command after the change. */
  addToCommand(messageId: string, delta: CommandDelta, now: number): Promise<CommandItem> {
    return command.addToCommand(this.table, messageId, delta, now);
  }

  /** Moves a RUNNING command to a final status; false when it was no longer RUNNING (one finisher wins). */
  finish(item: CommandItem, status: Exclude<CommandStatus, "RUNNING">, fields: command.FinishFields, now: number): Promise<boolean> {
    return command.finishCommand(this.table, item, { status, fields, now });
  }

  /** Stores an ended command's final counts; false once its alert went out (its counts stay). */
  setCounts(messageId: string, counts: command.FinalCounts): Promise<boolean> {
    return command.setCounts(this.table, messageId, counts);
  }

  /** Nothing new is claimed until resumeCommand; false when the command is not RUNNING. */
  pauseCommand(messageId: string, now: number): Promise<boolean> {
    return command.setPaused(this.table, messageId, true, now);
  }

  /** Claims go on (the caller queues a tick); false when the command is not RUNNING. */
  resumeCommand(messageId: string, now: number): Promise<boolean> {
    return command.setPaused(this.table, messageId, false, now);
  }

  /** Mends in_flight to a recount, unless the command changed since `seen` was read. */
  setInFlight(seen: Pick<CommandItem, "message_id" | "updated_at">, inFlight: number): Promise<boolean> {
    return command.setInFlight(this.table, seen, inFlight);
  }

  /**
   * True for the one settle that should queue a tick: room for a batch, batches left, none asked for within everyMs
   * (`anyRoom`: whatever the counters say, for a reply they do not count yet).
   */
  requestTick(
    of: Pick<CommandItem, "message_id" | "max_concurrency" | "batch_size">,
    at: { now: number; everyMs: number; anyRoom?: boolean },
  ): Promise<boolean> {
    return command.requestTick(this.table, of, at);
  }

  // --- batches (store/batches.ts) ---------------------------------------------------------------

  /** Writes the batches that do not exist yet (a second identical submission writes none): state, ids, members of a sparse command. */
  putBatches(of: batches.BatchesOf, items: readonly BatchItem[]): Promise<void> {
    return batches.putBatches(this.table, of, items);
  }

  /** The command's batches, in order; without their agent ids unless asked. */
  batches(messageId: string, hash: string, withIds = false): Promise<BatchItem[]> {
    return batches.listBatches(this.table, { messageId, hash }, withIds);
  }

  batch(messageId: string, sk: string): Promise<BatchItem | undefined> {
    return batches.getBatch(this.table, messageId, sk);
  }

  /** Claims a batch for sending (PENDING and within the window, or its sender's lease ran out); else why not. */
  claimBatch(
    batch: BatchClaim & { state: BatchItem["state"]; size: number },
    lease: { now: number; leaseMs: number; maxConcurrency: number },
  ): Promise<BatchItem | batches.ClaimRefusal> {
    return batches.claimBatch(this.table, batch, lease);
  }

  /** The batch is sent: it counts as done on the command, once, with its failures. */
  completeBatch(batch: BatchClaim, sent: batches.BatchSent): Promise<boolean> {
    return batches.completeBatch(this.table, batch, sent);
  }

  /** GSE refused the whole batch for a passing reason: PENDING again from `notBefore`. */
  releaseBatch(batch: BatchClaim, next: { attempts: number; notBefore: number; size: number; now: number }): Promise<boolean> {
    return batches.releaseBatch(this.table, batch, next);
  }

  /** A batch never sent of a command that stopped early (PENDING, or SENDING under a lease that ran out). */
  skipBatch(messageId: string, batch: Pick<BatchItem, "sk" | "state" | "size">, now: number): Promise<void> {
    return batches.skipBatch(this.table, messageId, batch, now);
  }

  /** A SENT batch's agents settled `by_batch` since its last count, onto the command's counters (conditional on that count). */
  countSettled(messageId: string, batch: Pick<BatchItem, "sk">, count: batches.SettledCount): Promise<boolean> {
    return batches.countSettled(this.table, messageId, batch, count);
  }

  /** A claimed batch whose command stopped before it went to GSE: never sent. */
  abandonBatch(batch: BatchClaim, at: { size: number; now: number }): Promise<boolean> {
    return batches.abandonBatch(this.table, batch, at);
  }

  // --- agents (store/agents.ts) -----------------------------------------------------------------

  /** Each agent of a batch gets its item before the batch goes to GSE: replies always find one. */
  prewriteAgents(agentsOfBatch: agents.BatchAgents): Promise<void> {
    return agents.prewriteAgents(this.table, agentsOfBatch);
  }

  /** First delivery failures of a batch, each its agent's item (created or moved from PENDING); returns what this call recorded, for completeBatch to count. */
  recordFailures(command: AgentsOf, failures: readonly AgentFailure[], at: agents.FailureAt): Promise<agents.FailureCount> {
    return agents.recordFailures(this.table, command, failures, at);
  }

  /** The first delivery failures recorded for a batch by any sender: what a sender that took it over counts. */
  firstFailures(command: AgentsOf, batch: { index: number; agentIds: readonly string[] }): Promise<agents.FailureCount> {
    return agents.firstFailures(this.table, command, batch);
  }

  getAgent(command: AgentsOf, agentId: string): Promise<AgentCommandItem | undefined> {
    return agents.getAgent(this.table, command, agentId);
  }

  /** The items of the agents given that have one, by agent id. */
  agentsByIds(command: AgentsOf, agentIds: readonly string[]): Promise<Map<string, AgentCommandItem>> {
    return agents.agentsByIds(this.table, command, agentIds);
  }

  /** The agent ids of the batches given, by batch index. */
  batchIds(messageId: string, of: readonly Pick<BatchItem, "sk" | "index">[]): Promise<Map<number, string[]>> {
    return ids.readBatchIds(this.table, messageId, of);
  }

  /** A FAILED or RETRYING agent of a command that stopped: no more attempts. */
  giveUp(command: AgentsOf, agentId: string, now: number): Promise<boolean> {
    return agents.giveUp(this.table, command, agentId, now);
  }

  /** The plugin answered. Only an agent we sent to, and only once. */
  markReplied(command: AgentsOf, agentId: string, reply: agents.ReplyRecord): Promise<agents.ReplyResult> {
    return agents.markReplied(this.table, { command, agentId }, reply);
  }

  /** No reply within the command's timeout. */
  markTimedOut(command: AgentsOf, agentId: string, now: number): Promise<boolean> {
    return agents.markTimedOut(this.table, command, agentId, now);
  }

  /** No reply within the command's timeout from an agent without an item: TIMED_OUT `by_batch`, counted with its batch. */
  timeOutByBatch(command: AgentsOf, agent: { agentId: string; batch: number; now: number; expiresAt: number }): Promise<boolean> {
    return agents.timeOutByBatch(this.table, command, agent);
  }

  /** Every agent item of the command, a page at a time (projection keeps it small). */
  agentItems(command: AgentsOf, projection = false): AsyncGenerator<AgentCommandItem[]> {
    return agents.agentItems(this.table, command, projection);
  }

  /** One page of agent items, optionally of some stored outcomes. */
  agentPage(command: AgentsOf, options: PageRequest & { outcomes?: readonly AgentOutcome[] }): Promise<Page<AgentCommandItem>> {
    return agents.agentPage(this.table, command, options);
  }

  // --- retries (store/retries.ts) ---------------------------------------------------------------

  /** The command as scheduling a retry reads it: its content left out. */
  retryCommand(messageId: string): Promise<retries.RetryCommand | undefined> {
    return retries.retryCommand(this.table, messageId);
  }

  /** Recovery took a FAILED agent in hand: RETRYING, due at `due`, with its entry. */
  markRetrying(agent: AgentAttempt, at: retries.RetryDue): Promise<boolean> {
    return retries.markRetrying(this.table, agent, at);
  }

  /** A RETRYING agent whose round never came: due again at `due`. */
  rearmRetry(agent: AgentAttempt, at: retries.RetryDue): Promise<boolean> {
    return retries.rearmRetry(this.table, agent, at);
  }

  /** The one job of this due time: true for the first caller only, who queues it. */
  claimRetryJob(messageId: string, at: Omit<retries.RetryDue, "now">): Promise<boolean> {
    return retries.claimRetryJob(this.table, messageId, at);
  }

  /** Up to `limit` retry entries due by `now`, earliest first. */
  dueRetries(command: AgentsOf, now: number, limit: number): Promise<RetryEntry[]> {
    return retries.dueRetries(this.table, command, now, limit);
  }

  /** Takes the command's retry lease; false while another round holds it. */
  lockRetries(messageId: string, holder: string, lease: { now: number; leaseMs: number; expiresAt: number }): Promise<boolean> {
    return retries.lockRetries(this.table, messageId, holder, lease);
  }

  /** While another round holds the lease: asks it to run once more for `due`; false when not held (or covered). */
  askRetryAgain(messageId: string, at: { due: number; now: number }): Promise<boolean> {
    return retries.askRetryAgain(this.table, messageId, at);
  }

  /** Gives the lease back; returns the due time another round asked to run again for, if any. */
  unlockRetries(messageId: string, holder: string): Promise<number | undefined> {
    return retries.unlockRetries(this.table, messageId, holder);
  }

  /** Claims attempt n+1 of each entry's agent; returns the entries claimed. */
  claimRetries(command: AgentsOf, entries: readonly RetryEntry[], now: number): Promise<RetryEntry[]> {
    return retries.claimRetries(this.table, command, entries, now);
  }

  /** A round's outcomes: SENT, FAILED (again) or FAILED for good, with the pending retries. */
  recordRetries(command: AgentsOf, results: retries.RetryResults, now: number, tracked = false): Promise<void> {
    return retries.recordRetries(this.table, command, results, now, tracked);
  }

  dropRetryEntries(entries: readonly RetryEntry[]): Promise<void> {
    return retries.dropRetryEntries(this.table, entries);
  }

  // --- listing, upstream (store/listing.ts, store/upstream.ts) -----------------------------------

  listCommands(options: PageRequest & { status?: CommandStatus }): Promise<Page<IndexItem>> {
    return listing.listCommands(this.table, options);
  }

  putUpstream(item: UpstreamItem): Promise<void> {
    return upstream.putUpstream(this.table, item);
  }

  listUpstream(day: string, options: PageRequest): Promise<Page<UpstreamItem>> {
    return upstream.listUpstream(this.table, day, options);
  }
}
