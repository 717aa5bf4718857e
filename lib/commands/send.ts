/**
 * Sending a command's batches: any number of senders (the request, the watchdog tick, a
 * redelivered job) work on one command; each batch is claimed under a lease, its agents written,
 * the message sent to GSE, the failures recorded, and the batch completed, each step conditional.
 */
import { randomUUID } from "node:crypto";
import { GseError } from "../core/errors.ts";
import { PERMANENT_AGENT_CODES, retryDelayMs } from "./rollout.ts";
import type { CommandDeps } from "./settings.ts";
import { closeStopped, exceeded, settleCommand } from "./settle.ts";
import type { AgentFailure, BatchClaim, BatchItem, CommandItem } from "./store/items.ts";

/** An agent GSE did not take, as dispatch_message's `results` names it. */
export interface Undelivered {
  readonly bk_agent_id: string;
  readonly code: number;
  readonly message: string;
}

export interface AdvanceResult {
  readonly command: CommandItem;
  /** Agents GSE did not take in the batches this call sent (GSE's `results`). */
  readonly undelivered: Undelivered[];
  /** Batches this call sent, and how many of them GSE refused as a whole. */
  readonly sent: number;
  readonly wholeBatchErrors: GseError[];
  /** Batches left for later (time budget used up); 0 when the window (or a pause, or max_errors) held them back. */
  readonly left: number;
  /** A claim was refused by the command's window, pause or max_errors: a settle (or resume) queues the next tick. */
  readonly blocked: boolean;
  /** The earliest time a batch GSE refused as a whole may be sent again. */
  readonly retryAt: number | undefined;
}

/** What one batch's send came to. */
interface BatchOutcome {
  readonly undelivered: Undelivered[];
  readonly error?: GseError;
  readonly retryAt?: number;
}

/** One advanceCommand call: the batches it may send, and what its workers share as they go. */
interface SendRun {
  readonly deps: CommandDeps;
  readonly messageId: string;
  readonly todo: readonly BatchItem[];
  readonly until: number;
  readonly maxBatches: number;
  command: CommandItem;
  next: number;
  stop: boolean;
  blocked: boolean;
  /** A batch started is finished, whatever the time: start one only if the slowest so far would still end in budget. */
  slowestMs: number;
  sent: number;
  readonly undelivered: Undelivered[];
  readonly wholeBatchErrors: GseError[];
  retryAt: number | undefined;
}

/**
 * Sends the command's batches that nobody has sent yet, `parallel` at a time, until they are all
 * sent, the command stops running, its errors pass max_errors (ABORTED: batches in flight
 * finish, the others are never sent) or the time budget runs out.
 */
export async function advanceCommand(deps: CommandDeps, messageId: string, budgetMs: number, options: { maxBatches?: number } = {}): Promise<AdvanceResult> {
  const until = deps.now() + budgetMs;
  const command = await deps.store.getCommand(messageId);
  if (!command) throw new Error(`command ${messageId} not found`);
  if (command.status !== "RUNNING") {
    // It stopped with batches in flight (counted PENDING): count again, now their senders are done or dead.
    const closed = (command.counts?.PENDING ?? 0) > 0 ? await closeStopped(deps, command) : command;
    return { command: closed, undelivered: [], sent: 0, wholeBatchErrors: [], left: 0, blocked: false, retryAt: undefined };
  }
  const run = await openRun(deps, command, { until, maxBatches: options.maxBatches ?? Infinity });
  await Promise.all(Array.from({ length: Math.min(command.parallel, Math.max(1, run.todo.length)) }, () => sendWorker(run)));
  const left = run.blocked ? 0 : run.todo.length - run.next;
  const settled = await settleCommand(deps, run.command);
  return {
    command: settled,
    undelivered: run.undelivered,
    sent: run.sent,
    wholeBatchErrors: run.wholeBatchErrors,
    left,
    blocked: run.blocked,
    retryAt: run.retryAt,
  };
}

/** The batches to send now (PENDING and due, or SENDING under a lease that ran out), and when the others are due. */
async function openRun(deps: CommandDeps, command: CommandItem, limits: { until: number; maxBatches: number }): Promise<SendRun> {
  const now = deps.now();
  const batches = await deps.store.batches(command.message_id, command.body_hash);
  const todo = batches.filter((b) => (b.state === "PENDING" && (b.not_before ?? 0) <= now) || (b.state === "SENDING" && (b.lease_until ?? 0) < now));
  const run: SendRun = {
    deps,
    messageId: command.message_id,
    todo,
    ...limits,
    command,
    next: 0,
    stop: false,
    blocked: false,
    slowestMs: 0,
    sent: 0,
    undelivered: [],
    wholeBatchErrors: [],
    retryAt: undefined,
  };
  for (const b of batches) if (b.state === "PENDING" && (b.not_before ?? 0) > now) later(run, b.not_before as number);
  return run;
}

const later = (run: SendRun, at: number): void => {
  run.retryAt = run.retryAt === undefined ? at : Math.min(run.retryAt, at);
};

/** Whether another batch may start: the command still runs within its errors, in budget and under maxBatches. */
function mayStartAnother(run: SendRun): boolean {
  const { command, deps } = run;
  return command.status === "RUNNING" && !exceeded(command) && deps.now() + run.slowestMs <= run.until && run.next < run.maxBatches;
}

/** One of `parallel` workers: takes the next batch until none is left or the run stops. */
async function sendWorker(run: SendRun): Promise<void> {
  const { deps, messageId } = run;
  while (!run.stop && run.next < run.todo.length) {
    const current = run.command;
    if (!mayStartAnother(run)) {
      run.stop = true;
      return;
    }
    const batch = run.todo[run.next++] as BatchItem;
    const held: BatchClaim = { messageId, sk: batch.sk, claim: deps.newId?.() ?? randomUUID() };
    const claimed = await deps.store.claimBatch(
      { ...held, state: batch.state, size: batch.size },
      { now: deps.now(), leaseMs: deps.settings.leaseMs, maxConcurrency: current.max_concurrency },
    );
    if (claimed === "taken") continue;
    if (claimed === "window") {
      // Batches go in order: the next one does not fit either. A settle that makes room queues a tick.
      run.blocked = true;
      run.stop = true;
      return;
    }
    const startedAt = deps.now();
    // Never claimed nor released before: none of its agents can have an item yet.
    const firstSend = batch.state === "PENDING" && batch.claim === undefined && (batch.attempts ?? 1) <= 1;
    const outcome = await sendBatch(deps, current, claimed, { held, firstSend });
    run.slowestMs = Math.max(run.slowestMs, deps.now() - startedAt);
    run.sent++;
    run.undelivered.push(...outcome.undelivered);
    if (outcome.error) run.wholeBatchErrors.push(outcome.error);
    if (outcome.retryAt !== undefined) later(run, outcome.retryAt);
    run.command = (await deps.store.getCommand(messageId)) ?? current;
    // It stopped (cancelled, aborted) while this batch was out: its counts were taken with the batch in flight.
    if (run.command.status !== "RUNNING") run.command = await closeStopped(deps, run.command);
  }
}

/**
 * One claimed batch: the message sent, what GSE refused recorded, the batch completed. Its agents
 * get items only when something happens to them (a sparse command's); a legacy command's were
 * written before the send.
 */
async function sendBatch(deps: CommandDeps, command: CommandItem, batch: BatchItem, claim: { held: BatchClaim; firstSend: boolean }): Promise<BatchOutcome> {
  const { held, firstSend } = claim;
  const ids = batch.agent_ids ?? [];
  const messageId = command.message_id;
  if (command.sparse_agents !== true)
    await deps.store.prewriteAgents({ command, batch: batch.index, agentIds: ids, now: deps.now(), expiresAt: command.expires_at, firstSend });
  // Stopped (cancelled, aborted) since this batch was claimed: it is never sent, its agents SKIPPED.
  if ((await deps.store.getCommand(messageId))?.status !== "RUNNING") {
    await deps.store.abandonBatch(held, { size: batch.size, now: deps.now() });
    return { undelivered: [] };
  }
  let failures: AgentFailure[];
  let error: GseError | undefined;
  try {
    failures = await dispatchBatch(deps, command, ids);
  } catch (caught) {
    if (!(caught instanceof GseError)) throw caught;
    error = caught;
    const released = await releaseForLater(deps, { command, batch, held, error: caught });
    if (released) return released;
    // GSE refused the message itself (e.g. the slot), or the attempts are used up: final.
    failures = ids.map((agentId) => ({ agentId, code: caught.gseCode ?? caught.code, message: caught.message, final: true }));
  }
  const recorded = await deps.store.recordFailures(command, failures, { now: deps.now(), batch: batch.index, expiresAt: command.expires_at });
  // A sender before this one may have recorded failures and died before completing: none of them is counted yet.
  const counted = firstSend ? recorded : await deps.store.firstFailures(command, { index: batch.index, agentIds: ids });
  // Without reply tracking an agent settles on delivery: the delivered ones leave the window now (with it, at their batch's count of replies).
  const settled = command.reply_timeout_seconds === null ? ids.length - failures.length : 0;
  await deps.store.completeBatch(held, { ...counted, now: deps.now(), settled });
  deps.logger?.info("command batch sent", {
    message_id: messageId,
    batch: batch.index,
    agents: ids.length,
    undelivered: failures.length,
    ...(error ? { gse_error: error.codeName } : {}),
  });
  return { undelivered: failures.map((f) => ({ bk_agent_id: f.agentId, code: f.code, message: f.message })), ...(error ? { error } : {}) };
}

/** dispatch_message for one batch; the agents GSE did not take, each once and only those of the batch (an unknown one final at once). */
async function dispatchBatch(deps: CommandDeps, command: CommandItem, ids: string[]): Promise<AgentFailure[]> {
  const final = command.max_attempts <= 1;
  const data = await deps.gse.call("dispatch_message", {
    slot_id: deps.slot.slotId,
    token: deps.slot.slotToken,
    message_id: command.message_id,
    agent_id_list: ids,
    content: command.content,
  });
  const inBatch = new Set(ids);
  const seen = new Set<string>();
  return data.results
    .filter((r) => inBatch.has(r.bk_agent_id) && !seen.has(r.bk_agent_id) && seen.add(r.bk_agent_id))
    .map((r) => ({ agentId: r.bk_agent_id, code: r.code, message: r.message, final: final || PERMANENT_AGENT_CODES.has(r.code) }));
}

/**
 * GSE down, slow or rate-limiting: the whole batch goes again later, as one call, while attempts
 * are left. The message may have gone out (a timeout); it is sent again with the same message_id,
 * which plugins use to tell a repeat (at-least-once, docs/architecture.md). Returns the
 * batch's outcome when it was released, undefined when its failure is final.
 */
async function releaseForLater(
  deps: CommandDeps,
  refused: { command: CommandItem; batch: BatchItem; held: BatchClaim; error: GseError },
): Promise<BatchOutcome | undefined> {
  const { command, batch, error } = refused;
  const undelivered = (batch.agent_ids ?? []).map((agentId) => ({ bk_agent_id: agentId, code: error.gseCode ?? error.code, message: error.message }));
  const attempts = batch.attempts ?? 1;
  if (!error.retryable || error.outcome === "rejected" || attempts >= command.max_attempts) return undefined;
  const retryAt = deps.now() + retryDelayMs(attempts, deps.settings, deps.random);
  if (!(await deps.store.releaseBatch(refused.held, { attempts: attempts + 1, notBefore: retryAt, size: batch.size, now: deps.now() }))) return undefined;
  deps.logger?.warn("command batch refused by GSE, sent again later", {
    message_id: command.message_id,
    batch: batch.index,
    attempt: attempts,
    gse_error: error.codeName,
    retry_at: new Date(retryAt).toISOString(),
  });
  return { undelivered, error, retryAt };
}
