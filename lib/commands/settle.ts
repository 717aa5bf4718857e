/**
 * Ending a command: settleCommand ends it when nothing is left to wait for (or its errors passed
 * max_errors), stopCommand ends it early (ABORTED, CANCELLED) and closes it.
 */
import { closeCommand, type ClosedCommand } from "./close.ts";
import { finalStatus, isWaitingForRetry, tallyOutcomes } from "./outcomes.ts";
import { COMMAND_TICK_JOB, MAX_QUEUE_DELAY_SECONDS, type CommandDeps } from "./settings.ts";
import type { CommandItem } from "./store/items.ts";

/** More delivery failures than the command tolerates. */
export const exceeded = (command: CommandItem): boolean => command.max_errors !== null && command.errors > command.max_errors;

/**
 * Brings a command to its end when nothing is left to wait for: errors past max_errors → ABORTED;
 * every batch sent, no agent waiting for a retry and (when replies are awaited) every delivered
 * agent either replied or passed its own deadline (its delivery + reply_timeout_seconds) →
 * SUCCEEDED, PARTIAL or FAILED. The command's counters are the cheap gate; `fromAgents` (the
 * sweep) decides from the batches and agents themselves instead, so a counter left wrong by a
 * crash cannot keep a command RUNNING. Waiting for replies means reading the agents: only
 * `checkReplies` callers (the watchdog tick, a GET, the sweep) do that. Otherwise returns the
 * command as it is. The end is one conditional write (RUNNING → final): one finisher wins.
 */
export async function settleCommand(
  deps: CommandDeps,
  command: CommandItem,
  options: { checkReplies?: boolean; fromAgents?: boolean } = {},
): Promise<CommandItem> {
  if (command.status !== "RUNNING") return command;
  if (exceeded(command)) {
    return stopCommand(deps, command, "ABORTED", `${command.errors} delivery failures, more than max_errors ${command.max_errors}`);
  }
  const countersDone = command.batches_done >= command.batch_count && command.pending_retries <= 0;
  if (!countersDone && !options.fromAgents) return command;
  const batches = await deps.store.batches(command.message_id, command.body_hash);
  // A batch not sent yet, or in a sender's hands: its sender (or the one taking it over) goes on.
  if (batches.some((b) => b.state === "PENDING" || b.state === "SENDING")) return command;
  if (command.reply_timeout_seconds !== null) {
    if (!options.checkReplies) return command;
    if ((await expireSilentAgents(deps, command, command.reply_timeout_seconds * 1000)) > 0) return command;
  }
  let waiting = 0;
  const counts = await tallyOutcomes(deps.store, command, batches, async (item) => {
    if (isWaitingForRetry(item)) waiting++;
  });
  if (waiting > 0 && !countersDone) return command;
  const status = finalStatus(counts);
  const fields = countersDone ? { counts } : { counts, pendingRetries: 0 };
  if (await deps.store.finish(command, status, fields, deps.now())) {
    deps.logger?.info("command finished", { message_id: command.message_id, status, counts, ...(countersDone ? {} : { from_agents: true }) });
  }
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
  const stopped = await closeStopped(deps, { ...command, status, reason });
  deps.logger?.info("command stopped", { message_id: command.message_id, status, reason, counts: stopped.counts });
  return stopped;
}

/**
 * Closes a stopped command, again when batches were in flight at the stop (they counted PENDING):
 * their senders close it again when done (lib/commands/send.ts); while one is still SENDING, a
 * tick after its lease looks again, so a sender that died leaves its batch SKIPPED, not PENDING.
 */
export async function closeStopped(deps: CommandDeps, command: CommandItem): Promise<ClosedCommand> {
  const closed = await closeCommand(deps, command);
  const inFlight = (await deps.store.batches(command.message_id, command.body_hash)).some((b) => b.state === "SENDING");
  if (inFlight) {
    const delaySeconds = Math.min(MAX_QUEUE_DELAY_SECONDS, Math.ceil(deps.settings.leaseMs / 1000) + 1);
    await deps.queue.send({ type: COMMAND_TICK_JOB, message_id: command.message_id }, delaySeconds);
  }
  return closed;
}
