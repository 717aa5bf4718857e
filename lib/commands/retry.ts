/**
 * What keeps a command moving after the request that created it: recovery (the commands table's
 * stream) puts each failed agent in a retry round due after its backoff, and alerts once per
 * command that ends badly; the automation queue runs the rounds (one job per command and due time,
 * one GSE call per batch of due agents) and each command's watchdog tick.
 */
import * as z from "zod";
import { parseJobBody, type JobHandler } from "../automation/jobs.ts";
import { GseError } from "../core/errors.ts";
import type { StreamRecord } from "../core/records.ts";
import type { RecoveryRule } from "../automation/recovery.ts";
import { randomUUID } from "node:crypto";
import { chunk } from "../dynamo/batch.ts";
import {
  agentCommandItemSchema,
  commandItemSchema,
  messageIdOfAgentPk,
  type AgentAttempt,
  type AgentCommandItem,
  type CommandItem,
  type RetryEntry,
} from "./store/items.ts";
import type { RetryCommand, RetryResults } from "./store/retries.ts";
import { messageIdSchema } from "../gse/schemas.ts";
import { raiseCommandAlert } from "./alert-outbox.ts";
import { ALERT_SAMPLE_SIZE, commandEndAlert, isAlertedStatus, type AlertedStatus, type AlertSampleAgent, type CommandAlert } from "./alerts.ts";
import type { AlertPublisher } from "../core/alerts.ts";
import { closeCommand, countsAreFinal, type ClosedCommand } from "./close.ts";
import { effectiveOutcome } from "./outcomes.ts";
import { PERMANENT_AGENT_CODES, RETRY_ROUND_MS, retryDueAt } from "./rollout.ts";
import { advanceCommand } from "./send.ts";
import { COMMAND_RETRY_JOB, COMMAND_TICK_JOB, MAX_QUEUE_DELAY_SECONDS, type CommandDeps } from "./settings.ts";
import { awaitsInFlight, exceeded, expireSilentAgents, settleCommand } from "./settle.ts";
import { mendInFlight } from "./in-flight.ts";
import { countReplies } from "./reply-count.ts";
import { scheduleTick } from "./submit.ts";

export const retryJobSchema = z.object({
  type: z.literal(COMMAND_RETRY_JOB),
  message_id: messageIdSchema,
  /** Epoch ms the round is due (SQS delays stop at 15 minutes). Its agents are the store's entries due by then: none travel here. */
  due: z.number().optional(),
  /** A job queued before rounds (one agent each) names its due time so; it runs as a round. */
  not_before: z.number().optional(),
});
export type RetryJob = z.infer<typeof retryJobSchema>;

export const tickJobSchema = z.object({
  type: z.literal(COMMAND_TICK_JOB),
  message_id: messageIdSchema,
  /** Sent by a settle that made room in the window (a reply): it sends, and leaves the watchdog to its own tick. */
  wake: z.boolean().optional(),
});

const delaySecondsUntil = (at: number, now: number): number => Math.min(MAX_QUEUE_DELAY_SECONDS, Math.max(0, Math.ceil((at - now) / 1000)));

/**
 * Recovery took a failed agent in hand: RETRYING, due after its backoff (rounded to the round
 * window), and the round of that due time queued once per command.
 */
export async function scheduleRetry(deps: CommandDeps, command: RetryCommand, agent: AgentCommandItem): Promise<void> {
  const now = deps.now();
  if (command.status !== "RUNNING") {
    await deps.store.giveUp(command, agent.agent_id, now);
    return;
  }
  const due = retryDueAt(now, agent.attempts, deps.settings, deps.random);
  const attempt = { command, agentId: agent.agent_id, attempts: agent.attempts };
  if (await deps.store.markRetrying(attempt, { due, now, expiresAt: command.expires_at })) {
    await queueRound(deps, command, due);
    return;
  }
  // A second delivery of the stream record: the first marked it; its round may not be queued yet (a crash between).
  const current = await deps.store.getAgent(command, agent.agent_id);
  if (current?.outcome === "RETRYING" && current.attempts === agent.attempts && current.retry_at !== undefined)
    await queueRound(deps, command, current.retry_at);
}

/** The round of due time `due`, queued once for the command (a marker item decides who queues it). */
async function queueRound(deps: CommandDeps, command: RetryCommand, due: number): Promise<void> {
  if (!(await deps.store.claimRetryJob(command.message_id, { due, expiresAt: command.expires_at }))) return;
  const job: RetryJob = { type: COMMAND_RETRY_JOB, message_id: command.message_id, due };
  await deps.queue.send(job, delaySecondsUntil(due, deps.now()));
  deps.logger?.info("command retry queued", { message_id: job.message_id, due, bytes: Buffer.byteLength(JSON.stringify(job)) });
}

/**
 * One retry round of a command: the agents due by now, a slice at a time, each slice one GSE call
 * per batch of up to DISPATCH_BATCH_SIZE agents; a slice left over goes back to the queue, so a
 * round never holds a queue worker longer than one slice (docs/architecture.md, fair scheduling).
 */
export function retryJobHandler(deps: CommandDeps): JobHandler {
  return async function runRetryRound(envelope) {
    const job = parseJobBody(retryJobSchema, envelope, `invalid ${COMMAND_RETRY_JOB} job`);
    const now = deps.now();
    const due = job.due ?? job.not_before ?? now;
    const next = (at: number): RetryJob => ({ type: COMMAND_RETRY_JOB, message_id: job.message_id, due: at });
    if (due > now + 1_000) {
      await deps.queue.send(next(due), delaySecondsUntil(due, now));
      return;
    }
    // Without its content: most rounds of a busy command only leave word for the one that runs.
    const state = await deps.store.retryCommand(job.message_id);
    if (!state) return;
    if (state.status !== "RUNNING") {
      await dropEndedRound(deps, state, due);
      return;
    }
    const holder = deps.newId?.() ?? randomUUID();
    if (!(await takeRetryLease(deps, state, { holder, due }))) return;
    let more = false;
    let again: number | undefined;
    try {
      const command = await deps.store.getCommand(job.message_id);
      if (command?.status === "RUNNING") more = await runRetrySlice(deps, command, { due, until: Math.max(due, deps.now()) });
    } finally {
      again = await deps.store.unlockRetries(job.message_id, holder);
    }
    if (more || again !== undefined) await deps.queue.send(next(Math.max(due, again ?? 0)), 0);
    const fresh = await deps.store.getCommand(job.message_id);
    if (!fresh) return;
    const settled = await settleCommand(deps, fresh);
    // Retries that ended made room for the next batch (they were in flight): send it now, not at the watchdog's next look.
    if (settled.status === "RUNNING" && settled.batches_done < settled.batch_count && hasRoom(settled))
      await deps.queue.send({ type: COMMAND_TICK_JOB, message_id: settled.message_id, wake: true }, 0);
  };
}

/**
 * The command's retry lease for this round. Held by another round: that one is asked to run once
 * more when done, for this due time (so its agents are not left), and this job ends. The lease
 * given back between the two looks: taken again here.
 */
async function takeRetryLease(deps: CommandDeps, command: RetryCommand, round: { holder: string; due: number }): Promise<boolean> {
  const { message_id: messageId } = command;
  const lease = { now: deps.now(), leaseMs: deps.settings.leaseMs, expiresAt: command.expires_at };
  if (await deps.store.lockRetries(messageId, round.holder, lease)) return true;
  if (await deps.store.askRetryAgain(messageId, { due: round.due, now: deps.now() })) {
    deps.logger?.info("command retry busy", { message_id: messageId, due: round.due });
    return false;
  }
  if (await deps.store.lockRetries(messageId, round.holder, { ...lease, now: deps.now() })) return true;
  // Held, and a round at least as late is asked for already: covered. (Should the lease have changed
  // hands twice meanwhile, the new holder's query reaches past this due time but for up to 1 s:
  // those agents wait for its next run or the watchdog.)
  deps.logger?.info("command retry busy", { message_id: messageId, due: round.due, covered: true });
  return false;
}

/** The command ended: its close gives every waiting agent up (then this changes nothing), or is about to. */
async function dropEndedRound(deps: CommandDeps, command: RetryCommand, due: number): Promise<void> {
  const now = deps.now();
  const entries = await deps.store.dueRetries(command, now, retrySliceAgents(deps));
  for (const entry of entries) await deps.store.giveUp(command, entry.agent_id, now);
  await deps.store.dropRetryEntries(entries);
  deps.logger?.info("command retry dropped", { message_id: command.message_id, due, agents: entries.length, why: `command ${command.status}` });
}

/** Agents one slice takes at most: one GSE call per batch, as many calls at once as GSE_CONCURRENCY. */
const retrySliceAgents = (deps: CommandDeps): number => deps.settings.batchSize * deps.settings.gseConcurrency;

/** One slice: claim the agents due by `until`, send them (one call per batch, in parallel), record, drop their entries. True when more are due. */
async function runRetrySlice(deps: CommandDeps, command: CommandItem, round: { due: number; until: number }): Promise<boolean> {
  const { due } = round;
  const limit = retrySliceAgents(deps);
  const started = deps.now();
  const entries = await deps.store.dueRetries(command, round.until, limit + 1);
  const slice = entries.slice(0, limit);
  const claimed = await deps.store.claimRetries(command, slice, deps.now());
  const claimedAt = deps.now();
  const results = await Promise.all(chunk(claimed, deps.settings.batchSize).map((part) => sendRetryBatch(deps, command, part)));
  const sentAt = deps.now();
  const delivered = results.flatMap((r) => r.delivered);
  const failures = results.flatMap((r) => r.failures);
  await deps.store.recordRetries(command, { delivered, failures }, deps.now(), command.reply_timeout_seconds !== null);
  await deps.store.dropRetryEntries(slice);
  deps.logger?.info("command retry round", {
    message_id: command.message_id,
    due,
    agents: claimed.length,
    stale: slice.length - claimed.length,
    calls: results.length,
    delivered: delivered.length,
    failed: failures.length,
    final: failures.filter((f) => f.failure.final).length,
    more: entries.length > limit,
    // Where a slice's time went: reading and claiming, GSE, recording.
    ms: { claim: claimedAt - started, gse: sentAt - claimedAt, record: deps.now() - sentAt },
  });
  return entries.length > limit;
}

/** One dispatch_message for up to a batch of claimed agents: who was delivered, who failed (and whether for good). */
async function sendRetryBatch(deps: CommandDeps, command: CommandItem, part: readonly RetryEntry[]): Promise<RetryResults> {
  const messageId = command.message_id;
  const attemptsOf = new Map(part.map((e) => [e.agent_id, e.attempts + 1]));
  const lastAttempt = (agentId: string): boolean => (attemptsOf.get(agentId) ?? 0) >= command.max_attempts;
  const refusals = new Map<string, { code: number; message: string }>();
  try {
    const data = await deps.gse.call("dispatch_message", {
      slot_id: deps.slot.slotId,
      token: deps.slot.slotToken,
      message_id: messageId,
      agent_id_list: part.map((e) => e.agent_id),
      content: command.content,
    });
    for (const r of data.results) if (attemptsOf.has(r.bk_agent_id)) refusals.set(r.bk_agent_id, { code: r.code, message: r.message });
  } catch (error) {
    if (!(error instanceof GseError)) throw error;
    const code = error.gseCode ?? error.code;
    return {
      delivered: [],
      failures: part.map((e) => ({
        failure: { agentId: e.agent_id, code, message: error.message, final: lastAttempt(e.agent_id) || error.outcome === "rejected" },
        attempts: e.attempts + 1,
      })),
    };
  }
  const delivered: AgentAttempt[] = [];
  const failures: RetryResults["failures"][number][] = [];
  for (const e of part) {
    const attempts = e.attempts + 1;
    const refused = refusals.get(e.agent_id);
    if (!refused) delivered.push({ command, agentId: e.agent_id, attempts });
    else failures.push({ failure: { agentId: e.agent_id, ...refused, final: lastAttempt(e.agent_id) || PERMANENT_AGENT_CODES.has(refused.code) }, attempts });
  }
  return { delivered, failures };
}

/**
 * A command's watchdog, every COMMAND_TICK_SECONDS (or at its reply deadline) while it runs:
 * sends batches a dead sender left, retries whose job went missing, and ends the command when
 * nothing is left to wait for.
 */
export function tickJobHandler(deps: CommandDeps, budgetMs: number): JobHandler {
  return async function runTick(envelope) {
    const { message_id: messageId, wake } = parseJobBody(tickJobSchema, envelope, `invalid ${COMMAND_TICK_JOB} job`);
    // A command that expired (TTL) or never was: nothing to look after.
    const found = await deps.store.getCommand(messageId);
    if (!found) return;
    if (awaitsInFlight(found)) {
      await watchStopped(deps, found);
      return;
    }
    // Replies counted first (per batch), so the window this tick claims in, and the errors, are the agents' as of now.
    // The settle below starts from this count: a batch's agents are read once a tick.
    const counted =
      found.status === "RUNNING" && found.sparse_agents === true && found.reply_timeout_seconds !== null
        ? await countReplies(deps, found, found.reply_timeout_seconds * 1000, await deps.store.batches(messageId, found.body_hash))
        : undefined;
    const { command: advanced, left, blocked, retryAt } = await advanceCommand(deps, messageId, budgetMs);
    let command = advanced;
    if (command.status === "RUNNING") {
      await rescueStalledAgents(deps, command);
      command = await settleCommand(deps, (await deps.store.getCommand(command.message_id)) ?? command, { checkReplies: true, counted });
    }
    if (command.status !== "RUNNING") return;
    // The next tick takes this one's place (a wake's place is no watchdog's): one watchdog chain per command.
    if (left > 0) {
      await deps.queue.send({ type: COMMAND_TICK_JOB, message_id: command.message_id, ...(wake ? { wake } : {}) }, 0);
      return;
    }
    // Timeouts in this tick made room in the window a blocked send was waiting for: send now.
    const freed = (command.in_flight ?? 0) < (advanced.in_flight ?? 0);
    if (blocked && freed && hasRoom(command)) await deps.queue.send({ type: COMMAND_TICK_JOB, message_id: command.message_id, wake: true }, 0);
    if (!wake) await scheduleTick(deps, command, retryAt);
  };
}

/** The window has room for a batch, and the command may claim one. */
const hasRoom = (command: CommandItem): boolean =>
  command.paused !== true && !exceeded(command) && (command.in_flight ?? 0) <= command.max_concurrency - command.batch_size;

/**
 * The watchdog of a stopped command whose agents in flight are awaited: silent ones time out at
 * their deadline; once none is left to wait for, in_flight is mended to the recount (0 unless an
 * agent is still in flight), and its drop to 0 is what sends the alert (commandRecoveryRule).
 */
export async function watchStopped(deps: CommandDeps, command: CommandItem): Promise<void> {
  const { waiting } = await expireSilentAgents(deps, command, (command.reply_timeout_seconds ?? 0) * 1000);
  const fresh = (await deps.store.getCommand(command.message_id)) ?? command;
  if (waiting === 0 && awaitsInFlight(fresh)) await mendInFlight(deps, fresh);
  const after = (await deps.store.getCommand(command.message_id)) ?? fresh;
  if (awaitsInFlight(after)) await scheduleTick(deps, after);
}

/** Failed agents recovery never took in hand, and RETRYING ones whose round never came (older than the lease): due now, one round. */
async function rescueStalledAgents(deps: CommandDeps, command: CommandItem): Promise<void> {
  if (command.pending_retries <= 0) return;
  const stale = deps.now() - deps.settings.leaseMs;
  let rearmed: number | undefined;
  for await (const page of deps.store.agentItems(command, true)) {
    for (const agent of page) {
      if (agent.final) continue;
      const stalledFailure = agent.outcome === "FAILED" && agent.updated_at < stale;
      const stalledRetry = agent.outcome === "RETRYING" && (agent.retry_at ?? 0) < stale && agent.updated_at < stale;
      if (stalledFailure) await scheduleRetry(deps, command, agent);
      else if (stalledRetry) {
        const now = deps.now();
        const due = Math.ceil(now / RETRY_ROUND_MS) * RETRY_ROUND_MS;
        const attempt = { command, agentId: agent.agent_id, attempts: agent.attempts };
        if (await deps.store.rearmRetry(attempt, { due, now, expiresAt: command.expires_at })) rearmed = Math.max(rearmed ?? 0, due);
      }
    }
  }
  if (rearmed === undefined) return;
  await queueRound(deps, command, rearmed);
  deps.logger?.info("command retries rescued", { message_id: command.message_id, due: rearmed });
}

/** What recovery needs for commands: the engine's deps, the alert publisher, and the owner's undo (APM). */
export type CommandRecoveryDeps = CommandDeps & { alerts: AlertPublisher<CommandAlert>; onEnded?: (command: CommandItem) => Promise<unknown> };

/**
 * The commands table's stream: a newly FAILED agent (not final) gets its retry scheduled; a
 * command that just ended is closed if its counts are not final yet (agents waiting for a retry
 * given up, counts recounted) and, when it ended PARTIAL, FAILED or ABORTED, gets its one alert,
 * built from those final counts. A crash anywhere re-delivers the record, and every step is
 * conditional, so a second run finishes what the first left.
 */
export function commandRecoveryRule(deps: CommandRecoveryDeps): RecoveryRule {
  return async function recoverCommandRecord(record: StreamRecord) {
    const { NewImage: next, OldImage: previous } = record.dynamodb;
    if (!next || typeof next.pk !== "string" || typeof next.sk !== "string") return;
    if (next.sk === "meta" && next.pk.startsWith("cmd#")) {
      const command = commandItemSchema.parse(next);
      if (command.status === "RUNNING" || command.status === "SUCCEEDED") return;
      // It just ended, or it ended before and its last agent in flight settled now (the alert waited for it).
      const justEnded = previous?.status === "RUNNING";
      const lastSettled = previous?.status === command.status && Number(previous?.in_flight ?? 0) > 0 && (command.in_flight ?? 0) <= 0;
      if (!justEnded && !lastSettled) return;
      await recoverEndedCommand(deps, command, lastSettled);
      return;
    }
    // An agent item, under its command's key or one of its agent shards.
    const messageId = next.sk.startsWith("agent#") ? messageIdOfAgentPk(next.pk) : undefined;
    if (messageId === undefined) return;
    const agent = agentCommandItemSchema.parse(next);
    if (agent.outcome !== "FAILED" || agent.final) return;
    if (previous?.outcome === "FAILED" && previous.attempts === agent.attempts) return;
    const command = await deps.store.retryCommand(messageId);
    if (!command) return;
    await scheduleRetry(deps, command, agent);
  };
}

/** Close (when needed), let the command's owner undo its part, then alert: in that order. */
async function recoverEndedCommand(deps: CommandRecoveryDeps, ended: CommandItem, recount = false): Promise<void> {
  // The item as it is now: the record may be old, and the one who ended it may have closed it already.
  const current = (await deps.store.getCommand(ended.message_id)) ?? ended;
  // Agents in flight at the stop keep settling: the alert waits for the last (its counts are the final ones).
  if (awaitsInFlight(current)) return;
  // Counts stored while agents were in flight are recounted once they settled.
  const command = countsAreFinal(current) && !recount ? current : await closeCommand(deps, current);
  if (!isAlertedStatus(command.status)) return;
  // The command's owner (an APM datasource action) undoes its part first; it is idempotent.
  if (command.origin !== undefined) await deps.onEnded?.(command);
  if (command.alerted_at !== undefined) return;
  // A rollout's wave: the rollout raises the one alert of its abort, naming the gate (lib/rollouts).
  if (command.origin?.owner_alerts === true) return;
  await alertOnce(deps, { ...command, status: command.status });
}

/** The alert, from the final counts; claimed on the command with those counts, so the command keeps showing them. */
async function alertOnce(deps: CommandRecoveryDeps, command: ClosedCommand & { status: AlertedStatus }): Promise<void> {
  const alert = commandEndAlert(command, command.counts, await failingSample(deps, command), deps.now());
  // Marked and put in the outbox in one transaction, then published: a crash in between leaves it to the outbox sweep.
  if (!(await raiseCommandAlert({ table: deps.store.outboxTable, alerts: deps.alerts, now: deps.now }, command.counts, alert))) return;
  deps.logger?.info("command alert sent", { message_id: command.message_id, type: alert.type, counts: command.counts });
}

/** Up to ALERT_SAMPLE_SIZE agents that failed (given up, or about to be) or timed out, with GSE's code and message. */
async function failingSample(deps: CommandDeps, command: CommandItem): Promise<AlertSampleAgent[]> {
  const page = await deps.store.agentPage(command, { limit: ALERT_SAMPLE_SIZE, cursor: undefined, outcomes: ["FAILED", "RETRYING", "TIMED_OUT"] });
  const noBatches = new Map<number, never>();
  return page.items.map((a) => ({
    bk_agent_id: a.agent_id,
    outcome: effectiveOutcome(a, noBatches, true),
    attempts: a.attempts,
    ...(a.code !== undefined ? { code: a.code } : {}),
    ...(a.message !== undefined ? { message: a.message } : {}),
  }));
}
