/**
 * Ending a command: settleCommand ends it when nothing is left to wait for (or its errors passed
 * max_errors), stopCommand ends it early (ABORTED, CANCELLED) and closes it.
 */
import { closeCommand, type ClosedCommand } from "./close.ts";
import { finalStatus, isWaitingForRetry, tallyOutcomes } from "./outcomes.ts";
import { COMMAND_TICK_JOB, MAX_QUEUE_DELAY_SECONDS, type CommandViewDeps } from "./settings.ts";
import { scheduleTick } from "./submit.ts";
import { countReplies, sentSince, type CountedReplies, type ReplyCount } from "./reply-count.ts";
import type { BatchItem, CommandItem } from "./store/items.ts";

/** More errors (failed deliveries, timeouts, failing replies) than the command tolerates. */
export const exceeded = (command: CommandItem): boolean => command.max_errors !== null && command.errors > command.max_errors;

const abort = (deps: CommandViewDeps, command: CommandItem): Promise<CommandItem> =>
  stopCommand(deps, command, "ABORTED", `${command.errors} errors (failed deliveries, timeouts, failing replies), more than max_errors ${command.max_errors}`);

/**
 * Brings a command to its end when nothing is left to wait for: errors past max_errors → ABORTED;
 * every batch sent, no agent waiting for a retry and (when replies are awaited) every delivered
 * agent either replied or passed its own deadline (its delivery + reply_timeout_seconds) →
 * SUCCEEDED, PARTIAL or FAILED (with max_errors given, SUCCEEDED: the errors stayed within it).
 * Overdue agents are timed out on the way, while batches are still to send: a timeout settles its
 * agent (room in the window) and is an error. The command's counters are the cheap gate;
 * `fromAgents` (the sweep) decides from the batches and agents themselves instead, so a counter
 * left wrong by a crash cannot keep a command RUNNING. Waiting for replies means reading the
 * agents: only `checkReplies` callers (the watchdog tick, a GET, the sweep) do that; a tick that
 * counted replies before it claimed hands that count over (`counted`), so only batches sent since
 * are read again. Otherwise returns the command as it is. The end is one conditional write
 * (RUNNING → final): one finisher wins.
 */
export async function settleCommand(
  deps: CommandViewDeps,
  command: CommandItem,
  options: { checkReplies?: boolean; fromAgents?: boolean; counted?: CountedReplies } = {},
): Promise<CommandItem> {
  if (command.status !== "RUNNING") return command;
  if (exceeded(command)) return abort(deps, command);
  let current = command;
  let waiting: number | undefined;
  if (current.reply_timeout_seconds !== null && options.checkReplies) {
    const expiry = await expireSilentAgents(deps, current, current.reply_timeout_seconds * 1000, options.counted);
    waiting = expiry.waiting;
    if (expiry.expired > 0 || expiry.counted > 0) {
      current = (await deps.store.getCommand(current.message_id)) ?? current;
      if (current.status !== "RUNNING") return current;
      if (exceeded(current)) return abort(deps, current);
    }
  }
  const countersDone = current.batches_done >= current.batch_count && current.pending_retries <= 0;
  if (!countersDone && !options.fromAgents) return current;
  const batches = await deps.store.batches(current.message_id, current.body_hash);
  // A batch not sent yet, or in a sender's hands: its sender (or the one taking it over) goes on.
  if (batches.some((b) => b.state === "PENDING" || b.state === "SENDING")) return current;
  if (current.reply_timeout_seconds !== null && (waiting === undefined || waiting > 0)) return current;
  let retrying = 0;
  const counts = await tallyOutcomes(deps.store, current, batches, async (item) => {
    if (isWaitingForRetry(item)) retrying++;
  });
  if (retrying > 0 && !countersDone) return current;
  const status = finalStatus(counts, current.max_errors !== null);
  const fields = countersDone ? { counts } : { counts, pendingRetries: 0 };
  if (await deps.store.finish(current, status, fields, deps.now())) {
    deps.logger?.info("command finished", { message_id: current.message_id, status, counts, ...(countersDone ? {} : { from_agents: true }) });
  }
  return (await deps.store.getCommand(current.message_id)) ?? current;
}

/**
 * Delivered agents whose reply is overdue become TIMED_OUT (each an error, out of the window), and
 * the replies of a sparse command are counted per batch on the way (lib/commands/reply-count.ts).
 * Returns how many are still within their time (a reply may come), so the command waits on, how
 * many it timed out, and how many batch counts moved the command's counters. Agents with items of
 * their own (a legacy command's, a retried agent's) are read only once a sent batch can have an
 * overdue one, and on a sparse command only when some agent's delivery failed (only those retry).
 * Given a count of this tick (`earlier`, taken before it claimed), only batches sent since are
 * counted: each open batch's ids and agent items are read once a tick, not twice (DynamoDB bills
 * every key asked for, found or not). What the returned `expired` and `counted` say is this call's
 * own; `waiting` adds the earlier count's, which stands for the batches it saw (a reply since is
 * counted by a later tick, and until then its agent counts as waiting: the command ends no sooner).
 */
export async function expireSilentAgents(deps: CommandViewDeps, command: CommandItem, timeoutMs: number, earlier?: CountedReplies): Promise<ReplyCount> {
  const batches = await deps.store.batches(command.message_id, command.body_hash);
  if (command.sparse_agents !== true) return { ...(await expireAgentItems(deps, command, timeoutMs, batches)), counted: 0 };
  const own = await countReplies(deps, command, timeoutMs, earlier ? sentSince(batches, earlier) : batches);
  const counted: ReplyCount = { waiting: own.waiting + (earlier?.waiting ?? 0), expired: own.expired, counted: own.counted };
  if (!batches.some((b) => (b.failed ?? 0) > 0) || command.max_attempts <= 1) return counted;
  // The counts just moved in_flight: the gate below reads it.
  const fresh = counted.counted > 0 ? ((await deps.store.getCommand(command.message_id)) ?? command) : command;
  const retried = await expireAgentItems(deps, fresh, timeoutMs, batches);
  return { ...counted, waiting: counted.waiting + retried.waiting, expired: counted.expired + retried.expired };
}

/** Agents with items PENDING (prewritten) or SENT (delivered by a retry): overdue ones TIMED_OUT, each in the transaction of its counters. */
async function expireAgentItems(
  deps: CommandViewDeps,
  command: CommandItem,
  timeoutMs: number,
  batches: readonly BatchItem[],
): Promise<{ waiting: number; expired: number }> {
  const now = deps.now();
  const sentAt = new Map(batches.map((b) => [b.index, b.state === "SENT" ? b.sent_at : undefined]));
  // A retried agent was delivered after its batch: none is overdue before the earliest batch is.
  const earliest = Math.min(...batches.map((b) => (b.state === "SENT" ? (b.sent_at ?? Infinity) : Infinity)));
  if (earliest + timeoutMs > now && command.status === "RUNNING" && (command.in_flight ?? 0) > 0) return { waiting: command.in_flight ?? 0, expired: 0 };
  let waiting = 0;
  let expired = 0;
  for await (const page of deps.store.agentItems(command, true)) {
    for (const item of page) {
      if (item.outcome !== "PENDING" && item.outcome !== "SENT") continue;
      // A retried agent was delivered when its item turned SENT; the others when their batch went out.
      const deliveredAt = item.outcome === "SENT" ? item.updated_at : sentAt.get(item.batch);
      if (deliveredAt === undefined) {
        // Its batch never went out (skipped): nothing to wait for once the command stopped.
        if (command.status === "RUNNING") waiting++;
      } else if (now < deliveredAt + timeoutMs) waiting++;
      else if (await deps.store.markTimedOut(command, item.agent_id, now)) expired++;
    }
  }
  return { waiting, expired };
}

/** ABORTED or CANCELLED: batches not sent are skipped, agents waiting for a retry fail for good. */
export async function stopCommand(deps: CommandViewDeps, command: CommandItem, status: "ABORTED" | "CANCELLED", reason: string): Promise<CommandItem> {
  if (!(await deps.store.finish(command, status, { reason }, deps.now()))) return (await deps.store.getCommand(command.message_id)) ?? command;
  const stopped = await closeStopped(deps, { ...command, status, reason });
  deps.logger?.info("command stopped", { message_id: command.message_id, status, reason, counts: stopped.counts, in_flight: stopped.in_flight ?? 0 });
  // Agents in flight still settle; silent ones time out by the stopped command's watchdog (lib/commands/retry.ts watchStopped).
  if (awaitsInFlight(stopped)) await scheduleTick(deps, stopped);
  return stopped;
}

/** A stopped command whose agents in flight are still awaited (replies, timeouts): its alert waits for them. */
export const awaitsInFlight = (command: Pick<CommandItem, "status" | "reply_timeout_seconds" | "in_flight">): boolean =>
  command.status !== "RUNNING" && command.reply_timeout_seconds !== null && (command.in_flight ?? 0) > 0;

/**
 * Closes a stopped command, again when batches were in flight at the stop (they counted PENDING):
 * their senders close it again when done (lib/commands/send.ts); while one is still SENDING, a
 * tick after its lease looks again, so a sender that died leaves its batch SKIPPED, not PENDING.
 */
export async function closeStopped(deps: CommandViewDeps, command: CommandItem): Promise<ClosedCommand> {
  const closed = await closeCommand(deps, command);
  const inFlight = (await deps.store.batches(command.message_id, command.body_hash)).some((b) => b.state === "SENDING");
  if (inFlight) {
    const delaySeconds = Math.min(MAX_QUEUE_DELAY_SECONDS, Math.ceil(deps.settings.leaseMs / 1000) + 1);
    await deps.queue.send({ type: COMMAND_TICK_JOB, message_id: command.message_id }, delaySeconds);
  }
  return closed;
}
