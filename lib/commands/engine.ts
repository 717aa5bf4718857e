/**
 * Tracked commands: a dispatch_message becomes a record first, then batches sent under the
 * command's rollout limits, per-agent outcomes, retries (lib/commands/retry.ts) and one final
 * status. Every step is a conditional write, so any number of senders (the request, the queue's
 * watchdog, a redelivered job) can work on one command and each thing happens once.
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import { createHash, randomUUID } from "node:crypto";
import { ConflictError, GseError } from "../core/errors.ts";
import type { GseClient } from "../gse/client.ts";
import { assertCallerSlot, type MessageSlot } from "../gse/dispatch.ts";
import type { AgentCommandItem, AgentFailure, BatchItem, CommandItem, CommandStore } from "./store.ts";
import { batchSk, commandPk, indexSk } from "./store.ts";
import { chunk } from "../dynamo/batch.ts";
import type { Config } from "../core/config.ts";
import {
  AGENT_OUTCOMES,
  type AgentOutcome,
  type AgentResult,
  type CommandStatus,
  type CommandView,
  type DispatchCommandRequest,
  type OutcomeCounts,
  type RolloutLimit,
} from "./schemas.ts";

export const COMMAND_TICK_JOB = "command.tick";
export const COMMAND_RETRY_JOB = "command.retry";

/** SQS holds a message back at most 15 minutes; longer waits are re-enqueued. */
export const MAX_QUEUE_DELAY_SECONDS = 900;

/** Where commands put their delayed work (the automation queue). */
export interface JobQueue {
  send(job: Readonly<Record<string, unknown>> & { type: string }, delaySeconds: number): Promise<void>;
}

export interface CommandSettings {
  readonly batchSize: number;
  /** GSE calls in flight per command at most (GSE_CONCURRENCY). */
  readonly gseConcurrency: number;
  readonly maxAttempts: number;
  readonly retryBaseMs: number;
  readonly retryMaxDelayMs: number;
  readonly sendBudgetMs: number;
  readonly leaseMs: number;
  readonly tickMs: number;
  readonly retentionMs: number;
}

export const commandSettings = (config: Config): CommandSettings => ({
  batchSize: config.dispatchBatchSize,
  gseConcurrency: config.gse.concurrency,
  maxAttempts: config.commands.maxAttempts,
  retryBaseMs: config.commands.retryBaseSeconds * 1000,
  retryMaxDelayMs: config.commands.retryMaxDelaySeconds * 1000,
  sendBudgetMs: config.commands.sendBudgetSeconds * 1000,
  leaseMs: config.commands.leaseSeconds * 1000,
  tickMs: config.commands.tickSeconds * 1000,
  retentionMs: config.commands.retentionDays * 86_400_000,
});

export interface CommandDeps {
  readonly store: CommandStore;
  readonly gse: GseClient;
  readonly slot: MessageSlot;
  readonly queue: JobQueue;
  readonly settings: CommandSettings;
  readonly now: () => number;
  readonly random: () => number;
  readonly newId?: () => string;
  readonly logger?: Logger;
}

// --- rollout ---------------------------------------------------------------------------------

/** A count, or a percentage of `total` (rounded up for concurrency, down for tolerated errors). */
export function resolveLimit(limit: RolloutLimit, total: number, round: "up" | "down"): number {
  if (typeof limit === "number") return limit;
  const share = (Number(limit.slice(0, -1)) / 100) * total;
  // 1e-9: 10% of 30 is 3, not 3.0000000000000004 rounded up to 4.
  return round === "up" ? Math.ceil(share - 1e-9) : Math.floor(share + 1e-9);
}

export interface RolloutPlan {
  readonly batchSize: number;
  readonly parallel: number;
  readonly maxConcurrency: number;
  readonly maxErrors: number | null;
}

/**
 * Batches are at most `max_concurrency` agents (and GSE's batch size), and as many run at once as
 * fit in `max_concurrency`, within the GSE concurrency setting.
 */
export function planRollout(total: number, request: Pick<DispatchCommandRequest, "max_concurrency" | "max_errors">, settings: Pick<CommandSettings, "batchSize" | "gseConcurrency">): RolloutPlan {
  const maxConcurrency = request.max_concurrency === undefined ? total : Math.max(1, Math.min(total, resolveLimit(request.max_concurrency, total, "up")));
  const batchSize = Math.max(1, Math.min(settings.batchSize, maxConcurrency));
  const parallel = Math.max(1, Math.min(settings.gseConcurrency, Math.floor(maxConcurrency / batchSize)));
  const maxErrors = request.max_errors === undefined ? null : resolveLimit(request.max_errors, total, "down");
  return { batchSize, parallel, maxConcurrency, maxErrors };
}

/** Exponential backoff with full jitter: attempt 1 waits up to base, attempt 2 up to 2×base, … */
export function retryDelayMs(attempt: number, settings: Pick<CommandSettings, "retryBaseMs" | "retryMaxDelayMs">, random: () => number): number {
  const cap = Math.min(settings.retryMaxDelayMs, settings.retryBaseMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * cap);
}

export const uniqueTargets = (ids: readonly string[]): string[] => [...new Set(ids)];

/** What makes two submissions of one message_id the same command. */
export function commandHash(request: DispatchCommandRequest): string {
  const canonical = JSON.stringify([
    uniqueTargets(request.agent_id_list),
    request.content,
    request.max_concurrency ?? null,
    request.max_errors ?? null,
    request.reply_timeout_seconds ?? null,
  ]);
  return createHash("sha256").update(canonical).digest("hex").slice(0, 16);
}

// --- create ----------------------------------------------------------------------------------

export interface Submission {
  readonly command: CommandItem;
  /** False when this message_id was submitted before with the same body. */
  readonly created: boolean;
}

/**
 * Records the command (batches first, then the command item that makes them real), before GSE
 * hears anything. Same message_id and body again: the existing command; another body: 409.
 */
export async function submitCommand(deps: CommandDeps, request: DispatchCommandRequest, createdBy: string, origin?: Record<string, unknown>): Promise<Submission> {
  assertCallerSlot(request, deps.slot);
  const targets = uniqueTargets(request.agent_id_list);
  const plan = planRollout(targets.length, request, deps.settings);
  const hash = commandHash(request);
  const now = deps.now();
  const expiresAt = Math.floor((now + deps.settings.retentionMs) / 1000);
  const pk = commandPk(request.message_id);
  const batches: BatchItem[] = chunk(targets, plan.batchSize).map((ids, index) => ({
    pk,
    sk: batchSk(hash, index),
    index,
    size: ids.length,
    agent_ids: ids,
    state: "PENDING",
    expires_at: expiresAt,
  }));
  const timeout = request.reply_timeout_seconds ?? null;
  const item: CommandItem = {
    pk,
    sk: "meta",
    message_id: request.message_id,
    body_hash: hash,
    content: request.content,
    target_count: targets.length,
    batch_count: batches.length,
    batch_size: plan.batchSize,
    parallel: plan.parallel,
    max_concurrency: plan.maxConcurrency,
    max_errors: plan.maxErrors,
    reply_timeout_seconds: timeout,
    max_attempts: deps.settings.maxAttempts,
    status: "RUNNING",
    batches_done: 0,
    errors: 0,
    pending_retries: 0,
    created_by: createdBy,
    created_at: now,
    updated_at: now,
    index_sk: indexSk(now, request.message_id),
    expires_at: expiresAt,
    ...(origin ? { origin } : {}),
  };
  await deps.store.putBatches(batches);
  if (!(await deps.store.createCommand(item))) {
    const existing = await deps.store.getCommand(request.message_id);
    if (!existing) throw new Error(`command ${request.message_id} neither created nor found`);
    deps.logger?.info("command resubmitted", { message_id: request.message_id, same_body: existing.body_hash === hash, status: existing.status });
    if (existing.body_hash !== hash) {
      throw new ConflictError(`message_id ${request.message_id} is already a command with a different body`, { message_id: request.message_id, status: existing.status });
    }
    return { command: existing, created: false };
  }
  // The watchdog: whatever happens to this request, the queue comes back to the command.
  try {
    await scheduleTick(deps, item);
  } catch (error) {
    deps.logger?.warn("could not schedule the command's watchdog; the sweep will find it", { message_id: item.message_id, error: String(error) });
  }
  deps.logger?.info("command created", { message_id: item.message_id, targets: item.target_count, batches: item.batch_count, parallel: item.parallel, max_errors: item.max_errors });
  return { command: item, created: true };
}

export async function scheduleTick(deps: Pick<CommandDeps, "queue" | "settings" | "now">, command: CommandItem, dueAt?: number): Promise<void> {
  let delayMs = deps.settings.tickMs;
  if (dueAt !== undefined) delayMs = Math.min(delayMs, Math.max(0, dueAt - deps.now()));
  // Replies are due reply_timeout_seconds after delivery: look again then.
  if (command.reply_timeout_seconds !== null) delayMs = Math.min(delayMs, command.reply_timeout_seconds * 1000 + 1_000);
  await deps.queue.send({ type: COMMAND_TICK_JOB, message_id: command.message_id }, Math.min(MAX_QUEUE_DELAY_SECONDS, Math.ceil(delayMs / 1000)));
}

// --- send ------------------------------------------------------------------------------------

export interface AdvanceResult {
  readonly command: CommandItem;
  /** Agents GSE did not take in the batches this call sent (GSE's `results`). */
  readonly undelivered: { bk_agent_id: string; code: number; message: string }[];
  /** Batches this call sent, and how many of them GSE refused as a whole. */
  readonly sent: number;
  readonly wholeBatchErrors: GseError[];
  /** Batches left for later (time budget used up). */
  readonly left: number;
  /** The earliest time a batch GSE refused as a whole may be sent again. */
  readonly retryAt: number | undefined;
}

const exceeded = (command: CommandItem): boolean => command.max_errors !== null && command.errors > command.max_errors;

/**
 * Sends the command's batches that nobody has sent yet, `parallel` at a time, until they are all
 * sent, the command stops running, its errors pass max_errors (ABORTED: batches in flight
 * finish, the others are never sent) or the time budget runs out.
 */
export async function advanceCommand(deps: CommandDeps, messageId: string, budgetMs: number, options: { maxBatches?: number } = {}): Promise<AdvanceResult> {
  const until = deps.now() + budgetMs;
  let command = await deps.store.getCommand(messageId);
  if (!command) throw new Error(`command ${messageId} not found`);
  const undelivered: AdvanceResult["undelivered"] = [];
  const wholeBatchErrors: GseError[] = [];
  let sent = 0;
  if (command.status !== "RUNNING") return { command, undelivered, sent, wholeBatchErrors, left: 0, retryAt: undefined };
  const now = deps.now();
  const batches = await deps.store.batches(messageId, command.body_hash);
  const todo = batches.filter((b) => (b.state === "PENDING" && (b.not_before ?? 0) <= now) || (b.state === "SENDING" && (b.lease_until ?? 0) < now));
  let retryAt: number | undefined;
  const later = (at: number): void => {
    retryAt = retryAt === undefined ? at : Math.min(retryAt, at);
  };
  for (const b of batches) if (b.state === "PENDING" && (b.not_before ?? 0) > now) later(b.not_before as number);
  let next = 0;
  let stop = false;
  // A batch started is finished, whatever the time: start one only if the slowest so far would still end in budget.
  let slowestMs = 0;
  const worker = async (): Promise<void> => {
    while (!stop && next < todo.length) {
      const current = command as CommandItem;
      if (current.status !== "RUNNING" || exceeded(current) || deps.now() + slowestMs > until || next >= (options.maxBatches ?? Infinity)) {
        stop = true;
        return;
      }
      const batch = todo[next++] as BatchItem;
      const claim = deps.newId?.() ?? randomUUID();
      const claimed = await deps.store.claimBatch({ messageId, sk: batch.sk, claim }, { now: deps.now(), leaseMs: deps.settings.leaseMs });
      if (!claimed) continue;
      const startedAt = deps.now();
      const outcome = await sendBatch(deps, current, claimed, claim);
      slowestMs = Math.max(slowestMs, deps.now() - startedAt);
      sent++;
      undelivered.push(...outcome.undelivered);
      if (outcome.error) wholeBatchErrors.push(outcome.error);
      if (outcome.retryAt !== undefined) later(outcome.retryAt);
      command = (await deps.store.getCommand(messageId)) ?? current;
    }
  };
  await Promise.all(Array.from({ length: Math.min(command.parallel, Math.max(1, todo.length)) }, worker));
  const left = todo.length - next;
  command = await settleCommand(deps, command);
  return { command, undelivered, sent, wholeBatchErrors, left, retryAt };
}

async function sendBatch(
  deps: CommandDeps,
  command: CommandItem,
  batch: BatchItem,
  claim: string,
): Promise<{ undelivered: AdvanceResult["undelivered"]; error?: GseError; retryAt?: number }> {
  const ids = batch.agent_ids ?? [];
  const messageId = command.message_id;
  await deps.store.prewriteAgents({ messageId, batch: batch.index, agentIds: ids, now: deps.now(), expiresAt: command.expires_at });
  const final = command.max_attempts <= 1;
  let failures: AgentFailure[];
  let error: GseError | undefined;
  try {
    const data = await deps.gse.call("dispatch_message", {
      slot_id: deps.slot.slotId,
      token: deps.slot.slotToken,
      message_id: messageId,
      agent_id_list: ids,
      content: command.content,
    });
    const inBatch = new Set(ids);
    const seen = new Set<string>();
    failures = data.results
      .filter((r) => inBatch.has(r.bk_agent_id) && !seen.has(r.bk_agent_id) && seen.add(r.bk_agent_id))
      .map((r) => ({ agentId: r.bk_agent_id, code: r.code, message: r.message, final }));
  } catch (caught) {
    if (!(caught instanceof GseError)) throw caught;
    error = caught;
    const undelivered = ids.map((agentId) => ({ bk_agent_id: agentId, code: caught.gseCode ?? caught.code, message: caught.message }));
    // GSE down, slow or rate-limiting: the whole batch goes again later, as one call. The message
    // may have gone out (a timeout); it is sent again with the same message_id, which plugins use
    // to tell a repeat (at-least-once, documented in the README).
    const attempts = batch.attempts ?? 1;
    if (caught.retryable && caught.outcome !== "rejected" && attempts < command.max_attempts) {
      const retryAt = deps.now() + retryDelayMs(attempts, deps.settings, deps.random);
      if (await deps.store.releaseBatch({ messageId, sk: batch.sk, claim }, { attempts: attempts + 1, notBefore: retryAt })) {
        deps.logger?.warn("command batch refused by GSE, sent again later", { message_id: messageId, batch: batch.index, attempt: attempts, gse_error: caught.codeName, retry_at: new Date(retryAt).toISOString() });
        return { undelivered, error: caught, retryAt };
      }
    }
    // GSE refused the message itself (e.g. the slot), or the attempts are used up: final.
    failures = ids.map((agentId) => ({ agentId, code: caught.gseCode ?? caught.code, message: caught.message, final: true }));
  }
  await deps.store.recordFailures(messageId, failures, deps.now());
  await deps.store.completeBatch({ messageId, sk: batch.sk, claim }, { failed: failures.length, now: deps.now() });
  deps.logger?.info("command batch sent", { message_id: messageId, batch: batch.index, agents: ids.length, undelivered: failures.length, ...(error ? { gse_error: error.codeName } : {}) });
  return { undelivered: failures.map((f) => ({ bk_agent_id: f.agentId, code: f.code, message: f.message })), ...(error ? { error } : {}) };
}

// --- finish ----------------------------------------------------------------------------------

/**
 * An agent's outcome as the API tells it: a PENDING item whose batch went out was SENT, and a
 * FAILED one with attempts left is RETRYING already (recovery is about to queue its next attempt).
 * Once the command has ended nothing more is sent: an agent still waiting for a retry is FAILED
 * (closeCommand gives it up), and one of a batch that never went out (released by GSE, then
 * skipped) is SKIPPED. Only an agent of a batch still in flight stays PENDING.
 */
export function effectiveOutcome(item: Pick<AgentCommandItem, "outcome" | "batch" | "final">, batchStates: ReadonlyMap<number, BatchItem["state"]>, ended = false): AgentOutcome {
  if (item.outcome === "FAILED" || item.outcome === "RETRYING") {
    if (ended) return "FAILED";
    return item.outcome === "RETRYING" || item.final === false ? "RETRYING" : "FAILED";
  }
  if (item.outcome !== "PENDING") return item.outcome;
  const state = batchStates.get(item.batch);
  if (state === "SENT") return "SENT";
  return ended && state !== "SENDING" ? "SKIPPED" : "PENDING";
}

/** An agent that waits for another attempt (FAILED with attempts left, or RETRYING): not final yet. */
export const isWaitingForRetry = (item: Pick<AgentCommandItem, "outcome" | "final">): boolean =>
  (item.outcome === "FAILED" || item.outcome === "RETRYING") && item.final !== true;

export const zeroCounts = (): OutcomeCounts => Object.fromEntries(AGENT_OUTCOMES.map((o) => [o, 0])) as OutcomeCounts;

/**
 * Counts every agent's outcome (effectiveOutcome): agents of batches never sent count PENDING
 * (SKIPPED once the command ended). `visit` sees each agent item as it is counted.
 */
async function tallyOutcomes(
  store: Pick<CommandStore, "agentItems">,
  command: CommandItem,
  batches: readonly BatchItem[],
  visit?: (item: AgentCommandItem) => Promise<unknown>,
): Promise<OutcomeCounts> {
  const ended = command.status !== "RUNNING";
  const states = new Map(batches.map((b) => [b.index, b.state]));
  const counts = zeroCounts();
  const itemsPerBatch = new Map<number, number>();
  for await (const page of store.agentItems(command.message_id, true)) {
    for (const item of page) {
      if (visit) await visit(item);
      counts[effectiveOutcome(item, states, ended)]++;
      itemsPerBatch.set(item.batch, (itemsPerBatch.get(item.batch) ?? 0) + 1);
    }
  }
  const unsent: AgentOutcome = ended ? "SKIPPED" : "PENDING";
  for (const batch of batches) counts[unsent] += Math.max(0, batch.size - (itemsPerBatch.get(batch.index) ?? 0));
  return counts;
}

/** Counts every agent's outcome: agents of batches never sent count PENDING (SKIPPED once the command ended). */
export async function countOutcomes(store: CommandStore, command: CommandItem): Promise<OutcomeCounts> {
  return tallyOutcomes(store, command, await store.batches(command.message_id, command.body_hash));
}

/** The final status a command's counts mean (it ran to its end: not aborted, not cancelled). */
export function finalStatus(counts: OutcomeCounts): Exclude<CommandStatus, "RUNNING" | "ABORTED" | "CANCELLED"> {
  const bad = counts.FAILED + counts.TIMED_OUT + counts.SKIPPED + counts.PENDING + counts.RETRYING;
  const total = AGENT_OUTCOMES.reduce((sum, o) => sum + counts[o], 0);
  if (bad === 0) return "SUCCEEDED";
  return bad === total ? "FAILED" : "PARTIAL";
}

/**
 * Brings a command to its end when nothing is left to wait for: errors past max_errors → ABORTED;
 * every batch sent, no retry pending and (when replies are awaited) every delivered agent either
 * replied or passed its own deadline (its delivery + reply_timeout_seconds) → SUCCEEDED, PARTIAL
 * or FAILED. Waiting for replies means reading the agents: only `checkReplies` callers (the
 * watchdog tick, a GET) do that. Otherwise returns the command as it is.
 */
export async function settleCommand(deps: CommandDeps, command: CommandItem, options: { checkReplies?: boolean } = {}): Promise<CommandItem> {
  if (command.status !== "RUNNING") return command;
  if (exceeded(command)) {
    return stopCommand(deps, command, "ABORTED", `${command.errors} delivery failures, more than max_errors ${command.max_errors}`);
  }
  if (command.batches_done < command.batch_count || command.pending_retries > 0) return command;
  if (command.reply_timeout_seconds !== null) {
    if (!options.checkReplies) return command;
    if ((await expireSilentAgents(deps, command, command.reply_timeout_seconds * 1000)) > 0) return command;
  }
  const now = deps.now();
  const counts = await countOutcomes(deps.store, command);
  const status = finalStatus(counts);
  await deps.store.finish(command, status, { counts }, now);
  deps.logger?.info("command finished", { message_id: command.message_id, status, counts });
  return (await deps.store.getCommand(command.message_id)) ?? command;
}

/**
 * Delivered agents whose reply is overdue become TIMED_OUT. Returns how many are still within
 * their time (a reply may come), so the command waits on.
 */
async function expireSilentAgents(deps: CommandDeps, command: CommandItem, timeoutMs: number): Promise<number> {
  const now = deps.now();
  const sentAt = new Map((await deps.store.batches(command.message_id, command.body_hash)).map((b) => [b.index, b.state === "SENT" ? b.sent_at : undefined]));
  let waiting = 0;
  for await (const page of deps.store.agentItems(command.message_id, true)) {
    for (const item of page) {
      if (item.outcome !== "PENDING" && item.outcome !== "SENT") continue;
      // A retried agent was delivered when its item turned SENT; the others when their batch went out.
      const deliveredAt = item.outcome === "SENT" ? item.updated_at : sentAt.get(item.batch);
      if (deliveredAt === undefined || now < deliveredAt + timeoutMs) waiting++;
      else await deps.store.markTimedOut(command.message_id, item.agent_id, now);
    }
  }
  return waiting;
}

/** ABORTED or CANCELLED: batches not sent are skipped, agents waiting for a retry fail for good. */
export async function stopCommand(deps: CommandDeps, command: CommandItem, status: "ABORTED" | "CANCELLED", reason: string): Promise<CommandItem> {
  if (!(await deps.store.finish(command, status, { reason }, deps.now()))) return (await deps.store.getCommand(command.message_id)) ?? command;
  const stopped = await closeCommand(deps, { ...command, status, reason });
  deps.logger?.info("command stopped", { message_id: command.message_id, status, reason, counts: stopped.counts });
  return stopped;
}

// --- close -----------------------------------------------------------------------------------

/** What closing a command needs: the store's reads and conditional writes, and the clock. */
export interface CloseDeps {
  readonly store: Pick<CommandStore, "batches" | "skipBatch" | "agentItems" | "giveUp" | "setCounts" | "getCommand">;
  readonly now: () => number;
}

export type ClosedCommand = CommandItem & { readonly counts: OutcomeCounts };

/**
 * Whether an ended command's stored counts are its final ones: there are counts, and nothing in
 * them (nor on the command) still waits for a retry or is in flight. A natural end (every batch
 * sent, no retry pending) stores final counts with its status; a stop (ABORTED, CANCELLED) has
 * them once closeCommand ran to its end.
 */
export function countsAreFinal(command: Pick<CommandItem, "status" | "counts" | "pending_retries">): command is ClosedCommand {
  const counts = command.counts;
  return command.status !== "RUNNING" && counts !== undefined && command.pending_retries <= 0 && counts.RETRYING === 0 && counts.PENDING === 0;
}

/**
 * Brings an ended command to its final outcomes and stores the counts they make: batches not sent
 * are SKIPPED, agents waiting for a retry FAILED for good, then the agents are counted. Every write
 * is conditional, so it may run any number of times, concurrently or after a crash at any step
 * (stopCommand runs it, and recovery again before the alert when the counts are not final) and
 * converges; a retry job that comes later finds its agent final and does nothing. Once the alert
 * went out the stored counts are the alert's and are kept (the answer carries them).
 */
export async function closeCommand(deps: CloseDeps, command: CommandItem): Promise<ClosedCommand> {
  if (command.status === "RUNNING") throw new Error(`command ${command.message_id} is still RUNNING: only an ended command is closed`);
  const batches = await skipUnsentBatches(deps, command);
  const counts = await giveUpAndCount(deps, command, batches);
  return recordCounts(deps, command, counts);
}

/** Batches not sent yet never will be; returns the batches as they are now (a late sender may have claimed one first). */
async function skipUnsentBatches(deps: CloseDeps, command: CommandItem): Promise<BatchItem[]> {
  const batches = await deps.store.batches(command.message_id, command.body_hash);
  const unsent = batches.filter((b) => b.state === "PENDING");
  if (unsent.length === 0) return batches;
  for (const batch of unsent) await deps.store.skipBatch(command.message_id, batch.sk);
  return deps.store.batches(command.message_id, command.body_hash);
}

/** One pass over the agents: each one waiting for a retry is given up (conditional), each is counted by its final outcome. */
async function giveUpAndCount(deps: CloseDeps, command: CommandItem, batches: readonly BatchItem[]): Promise<OutcomeCounts> {
  const now = deps.now();
  return tallyOutcomes(deps.store, command, batches, async (item) => {
    if (isWaitingForRetry(item)) await deps.store.giveUp(command.message_id, item.agent_id, now);
  });
}

/** Stores the counts, unless the alert went out first: then its counts stay, and are returned. */
async function recordCounts(deps: CloseDeps, command: CommandItem, counts: OutcomeCounts): Promise<ClosedCommand> {
  await deps.store.setCounts(command.message_id, counts);
  const stored = (await deps.store.getCommand(command.message_id)) ?? command;
  return { ...stored, counts: stored.alerted_at !== undefined && stored.counts ? stored.counts : counts };
}

// --- views -----------------------------------------------------------------------------------

const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());

export function commandView(command: CommandItem, counts: OutcomeCounts): CommandView {
  return {
    message_id: command.message_id,
    status: command.status,
    ...(command.reason !== undefined ? { reason: command.reason } : {}),
    targets: command.target_count,
    counts,
    batches: { total: command.batch_count, sent: command.batches_done, size: command.batch_size, parallel: command.parallel },
    rollout: { max_concurrency: command.max_concurrency, max_errors: command.max_errors, errors: command.errors },
    reply_timeout_seconds: command.reply_timeout_seconds,
    max_attempts: command.max_attempts,
    created_by: command.created_by,
    created_at: new Date(command.created_at).toISOString(),
    updated_at: new Date(command.updated_at).toISOString(),
    ...(command.finished_at !== undefined ? { finished_at: iso(command.finished_at) } : {}),
  };
}

/** Above this many targets a running command is counted from its batches, not agent by agent. */
export const EXACT_COUNT_MAX_TARGETS = 20_000;

/** Counts from the batches alone (no agent read): sent, failed at delivery, not sent yet. */
export async function batchCounts(store: CommandStore, command: CommandItem): Promise<OutcomeCounts> {
  const counts = zeroCounts();
  for (const batch of await store.batches(command.message_id, command.body_hash)) {
    if (batch.state === "SENT") {
      counts.FAILED += batch.failed ?? 0;
      counts.SENT += batch.size - (batch.failed ?? 0);
    } else counts[command.status === "RUNNING" ? "PENDING" : "SKIPPED"] += batch.size;
  }
  return counts;
}

/**
 * A command as the API shows it. An ended command's counts are stored with it (replies that come
 * after a command without a reply timeout ended show on the agents, not in the counts); a running
 * one is counted agent by agent or, when large (a poll must stay cheap), from its batches.
 */
export async function describeCommand(store: CommandStore, command: CommandItem): Promise<CommandView> {
  const counts = command.counts ?? (command.target_count > EXACT_COUNT_MAX_TARGETS ? await batchCounts(store, command) : await countOutcomes(store, command));
  return commandView(command, counts);
}

export function agentResult(item: AgentCommandItem, states: ReadonlyMap<number, BatchItem["state"]>, ended = false): AgentResult {
  return {
    bk_agent_id: item.agent_id,
    outcome: effectiveOutcome(item, states, ended),
    attempts: item.attempts,
    ...(item.code !== undefined ? { code: item.code } : {}),
    ...(item.message !== undefined ? { message: item.message } : {}),
    ...(item.reply !== undefined ? { reply: item.reply } : {}),
    ...(item.replied_at !== undefined ? { replied_at: iso(item.replied_at) } : {}),
    updated_at: iso(item.updated_at),
  };
}
