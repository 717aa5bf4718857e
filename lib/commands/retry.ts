/**
 * What keeps a command moving after the request that created it: recovery (the commands table's
 * stream) schedules a delayed retry for each failed agent and alerts once per command that ends
 * badly; the automation queue runs the retries and each command's watchdog tick.
 */
import { z } from "zod";
import { parseJobBody, type JobHandler } from "../automation/jobs.ts";
import { GseError } from "../core/errors.ts";
import type { StreamRecord } from "../core/records.ts";
import type { RecoveryRule } from "../automation/recovery.ts";
import { agentCommandItemSchema, commandItemSchema, type AgentCommandItem, type CommandItem } from "./store/items.ts";
import { messageIdSchema } from "../gse/schemas.ts";
import { ALERT_SAMPLE_SIZE, commandEndAlert, isAlertedStatus, type AlertedStatus, type AlertSampleAgent, type CommandAlert } from "./alerts.ts";
import type { AlertPublisher } from "../core/alerts.ts";
import { closeCommand, countsAreFinal, type ClosedCommand } from "./close.ts";
import { effectiveOutcome } from "./outcomes.ts";
import { retryDelayMs } from "./rollout.ts";
import { advanceCommand } from "./send.ts";
import { COMMAND_RETRY_JOB, COMMAND_TICK_JOB, MAX_QUEUE_DELAY_SECONDS, type CommandDeps } from "./settings.ts";
import { settleCommand } from "./settle.ts";
import { scheduleTick } from "./submit.ts";

export const retryJobSchema = z.object({
  type: z.literal(COMMAND_RETRY_JOB),
  message_id: messageIdSchema,
  agent_id: z.string().min(1).max(2048),
  /** The agent's attempts when it failed: the job claims attempt + 1, once. */
  attempt: z.int().min(1),
  /** Epoch ms before which the retry must not run (SQS delays stop at 15 minutes). */
  not_before: z.number(),
});
export type RetryJob = z.infer<typeof retryJobSchema>;

export const tickJobSchema = z.object({ type: z.literal(COMMAND_TICK_JOB), message_id: messageIdSchema });

const delaySecondsUntil = (at: number, now: number): number => Math.min(MAX_QUEUE_DELAY_SECONDS, Math.max(0, Math.ceil((at - now) / 1000)));

/** Enqueues the agent's next attempt after its backoff, then marks it RETRYING (once: conditional). */
export async function scheduleRetry(deps: CommandDeps, command: CommandItem, agent: AgentCommandItem): Promise<void> {
  const now = deps.now();
  if (command.status !== "RUNNING") {
    await deps.store.giveUp(command.message_id, agent.agent_id, now);
    return;
  }
  const notBefore = now + retryDelayMs(agent.attempts, deps.settings, deps.random);
  const job: RetryJob = { type: COMMAND_RETRY_JOB, message_id: command.message_id, agent_id: agent.agent_id, attempt: agent.attempts, not_before: notBefore };
  await deps.queue.send(job, delaySecondsUntil(notBefore, now));
  deps.logger?.info("command retry queued", {
    message_id: job.message_id,
    agent_id: job.agent_id,
    attempt: job.attempt,
    not_before: new Date(notBefore).toISOString(),
  });
  await deps.store.markRetrying({ messageId: command.message_id, agentId: agent.agent_id, attempts: agent.attempts }, { retryAt: notBefore, now });
}

/** One retry: claim the attempt, send to the one agent, record what GSE said. */
export function retryJobHandler(deps: CommandDeps): JobHandler {
  return async function runRetry(envelope) {
    const job = parseJobBody(retryJobSchema, envelope, `invalid ${COMMAND_RETRY_JOB} job`);
    const now = deps.now();
    if (job.not_before > now + 1_000) {
      await deps.queue.send(job, delaySecondsUntil(job.not_before, now));
      return;
    }
    const command = await deps.store.getCommand(job.message_id);
    if (!command) return;
    if (command.status !== "RUNNING") {
      // The command ended: its close gave the agent up already (then this changes nothing), or is about to.
      const gaveUp = await deps.store.giveUp(job.message_id, job.agent_id, now);
      deps.logger?.info("command retry dropped", {
        message_id: job.message_id,
        agent_id: job.agent_id,
        attempt: job.attempt,
        why: `command ${command.status}`,
        gave_up: gaveUp,
      });
      return;
    }
    if (!(await deps.store.claimRetry({ messageId: job.message_id, agentId: job.agent_id, attempts: job.attempt }, now))) {
      deps.logger?.info("command retry dropped", {
        message_id: job.message_id,
        agent_id: job.agent_id,
        attempt: job.attempt,
        why: "attempt claimed before, or the agent moved on",
      });
      return;
    }
    const attempts = job.attempt + 1;
    const final = attempts >= command.max_attempts;
    let failure: { code: number; message: string; final: boolean } | undefined;
    try {
      const data = await deps.gse.call("dispatch_message", {
        slot_id: deps.slot.slotId,
        token: deps.slot.slotToken,
        message_id: job.message_id,
        agent_id_list: [job.agent_id],
        content: command.content,
      });
      const refused = data.results.find((r) => r.bk_agent_id === job.agent_id);
      if (refused) failure = { code: refused.code, message: refused.message, final };
    } catch (error) {
      if (!(error instanceof GseError)) throw error;
      failure = { code: error.gseCode ?? error.code, message: error.message, final: final || error.outcome === "rejected" };
    }
    if (failure) await deps.store.retryFailed({ messageId: job.message_id, failure: { agentId: job.agent_id, ...failure }, attempts }, deps.now());
    else await deps.store.retryDelivered({ messageId: job.message_id, agentId: job.agent_id, attempts }, deps.now());
    deps.logger?.info("command retry", {
      message_id: job.message_id,
      agent_id: job.agent_id,
      attempt: attempts,
      delivered: !failure,
      final: failure?.final ?? false,
    });
    const fresh = await deps.store.getCommand(job.message_id);
    if (fresh) await settleCommand(deps, fresh);
  };
}

/**
 * A command's watchdog, every COMMAND_TICK_SECONDS (or at its reply deadline) while it runs:
 * sends batches a dead sender left, retries whose job went missing, and ends the command when
 * nothing is left to wait for.
 */
export function tickJobHandler(deps: CommandDeps, budgetMs: number): JobHandler {
  return async function runTick(envelope) {
    const { message_id: messageId } = parseJobBody(tickJobSchema, envelope, `invalid ${COMMAND_TICK_JOB} job`);
    // A command that expired (TTL) or never was: nothing to look after.
    if (!(await deps.store.getCommand(messageId))) return;
    const { command: advanced, left, retryAt } = await advanceCommand(deps, messageId, budgetMs);
    let command = advanced;
    if (command.status === "RUNNING") {
      await rescueStalledAgents(deps, command);
      command = await settleCommand(deps, (await deps.store.getCommand(command.message_id)) ?? command, { checkReplies: true });
    }
    if (command.status !== "RUNNING") return;
    if (left > 0) await deps.queue.send({ type: COMMAND_TICK_JOB, message_id: command.message_id }, 0);
    else await scheduleTick(deps, command, retryAt);
  };
}

/** Failed agents recovery never took in hand, and retries whose job was lost, older than the lease. */
async function rescueStalledAgents(deps: CommandDeps, command: CommandItem): Promise<void> {
  if (command.pending_retries <= 0) return;
  const stale = deps.now() - deps.settings.leaseMs;
  for await (const page of deps.store.agentItems(command.message_id, true)) {
    for (const agent of page) {
      if (agent.final) continue;
      const stalledFailure = agent.outcome === "FAILED" && agent.updated_at < stale;
      const stalledRetry = agent.outcome === "RETRYING" && (agent.retry_at ?? 0) < stale && agent.updated_at < stale;
      if (stalledFailure) await scheduleRetry(deps, command, agent);
      else if (stalledRetry) {
        const job: RetryJob = {
          type: COMMAND_RETRY_JOB,
          message_id: command.message_id,
          agent_id: agent.agent_id,
          attempt: agent.attempts,
          not_before: deps.now(),
        };
        await deps.queue.send(job, 0);
        deps.logger?.info("command retry queued", { message_id: job.message_id, agent_id: job.agent_id, attempt: job.attempt, rescued: true });
      }
    }
  }
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
    if (!next || typeof next.pk !== "string" || !next.pk.startsWith("cmd#")) return;
    if (next.sk === "meta") {
      const command = commandItemSchema.parse(next);
      if (previous?.status !== "RUNNING" || command.status === "RUNNING" || command.status === "SUCCEEDED") return;
      await recoverEndedCommand(deps, command);
      return;
    }
    if (typeof next.sk !== "string" || !next.sk.startsWith("agent#")) return;
    const agent = agentCommandItemSchema.parse(next);
    if (agent.outcome !== "FAILED" || agent.final) return;
    if (previous?.outcome === "FAILED" && previous.attempts === agent.attempts) return;
    const command = await deps.store.getCommand(agent.pk.slice("cmd#".length));
    if (!command) return;
    await scheduleRetry(deps, command, agent);
  };
}

/** Close (when needed), let the command's owner undo its part, then alert: in that order. */
async function recoverEndedCommand(deps: CommandRecoveryDeps, ended: CommandItem): Promise<void> {
  // The item as it is now: the record may be old, and the one who ended it may have closed it already.
  const current = (await deps.store.getCommand(ended.message_id)) ?? ended;
  const command = countsAreFinal(current) ? current : await closeCommand(deps, current);
  if (!isAlertedStatus(command.status)) return;
  // The command's owner (an APM datasource action) undoes its part first; it is idempotent.
  if (command.origin !== undefined) await deps.onEnded?.(command);
  if (command.alerted_at !== undefined) return;
  await alertOnce(deps, { ...command, status: command.status });
}

/** The alert, from the final counts; claimed on the command with those counts, so the command keeps showing them. */
async function alertOnce(deps: CommandRecoveryDeps, command: ClosedCommand & { status: AlertedStatus }): Promise<void> {
  const alert = commandEndAlert(command, command.counts, await failingSample(deps, command), deps.now());
  await deps.alerts.publish(alert);
  await deps.store.markAlerted(command.message_id, command.counts, deps.now());
  deps.logger?.info("command alert sent", { message_id: command.message_id, type: alert.type, counts: command.counts });
}

/** Up to ALERT_SAMPLE_SIZE agents that failed (given up, or about to be) or timed out, with GSE's code and message. */
async function failingSample(deps: CommandDeps, command: CommandItem): Promise<AlertSampleAgent[]> {
  const page = await deps.store.agentPage(command.message_id, { limit: ALERT_SAMPLE_SIZE, cursor: undefined, outcomes: ["FAILED", "RETRYING", "TIMED_OUT"] });
  const noBatches = new Map<number, never>();
  return page.items.map((a) => ({
    bk_agent_id: a.agent_id,
    outcome: effectiveOutcome(a, noBatches, true),
    attempts: a.attempts,
    ...(a.code !== undefined ? { code: a.code } : {}),
    ...(a.message !== undefined ? { message: a.message } : {}),
  }));
}
