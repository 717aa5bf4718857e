/**
 * Replies counted per batch (docs/rollouts.md §1): a reply to an agent that has no item creates it
 * `by_batch` by one conditional write and touches no counter, so replies never queue on the
 * command's item. The command's tick (and the sweep) counts, for each SENT batch whose agents are
 * not all settled yet, which of them have such an item, times out those whose batch went out more
 * than the reply timeout ago, and moves the command's counters by the difference since the batch's
 * last count in one conditional transaction per batch. The window's counter is only ever late to
 * fall, never too low; a crash anywhere leaves items a later count finds.
 */
import type { CommandDeps } from "./settings.ts";
import type { AgentCommandItem, BatchItem, CommandItem } from "./store/items.ts";

/** What a count saw: agents still awaited (a reply may come), agents it timed out, batches whose count it moved. */
export interface ReplyCount {
  readonly waiting: number;
  readonly expired: number;
  readonly counted: number;
}

/**
 * A count and the batches it was given, as they stand after it (a count it moved carries its new
 * figures; one lost to another keeps those it read, and its agents count as waiting). The settle
 * step of the same tick starts from it instead of reading every open batch's agents again.
 */
export interface CountedReplies extends ReplyCount {
  readonly batches: readonly BatchItem[];
}

/** Of a batch's agents, those with an item created `by_batch`: settled, of those the errors (a failing reply, a timeout), and of those the timeouts. */
export function batchSettles(
  agentIds: readonly string[],
  items: ReadonlyMap<string, Pick<AgentCommandItem, "outcome" | "by_batch">>,
): { settled: number; errors: number; timeouts: number } {
  let settled = 0;
  let errors = 0;
  let timeouts = 0;
  for (const id of agentIds) {
    const item = items.get(id);
    if (item?.by_batch !== true) continue;
    settled++;
    if (item.outcome !== "REPLIED") errors++;
    if (item.outcome === "TIMED_OUT") timeouts++;
  }
  return { settled, errors, timeouts };
}

/** A SENT batch some of whose agents may still owe a reply: neither failed at delivery nor counted settled. */
export const openBatch = (batch: Pick<BatchItem, "state" | "size" | "failed" | "settled">): boolean =>
  batch.state === "SENT" && (batch.settled ?? 0) + (batch.failed ?? 0) < batch.size;

/**
 * Counts the open batches of a command whose replies are awaited (see the file's comment).
 * `waiting` counts agents of those batches with no item, still within their time; agents with an
 * item of their own (a retried one) are the caller's (lib/commands/settle.ts).
 */
export async function countReplies(
  deps: Pick<CommandDeps, "store" | "now" | "logger">,
  command: CommandItem,
  timeoutMs: number,
  batches: readonly BatchItem[],
): Promise<CountedReplies> {
  const open = batches.filter(openBatch);
  if (open.length === 0) return { waiting: 0, expired: 0, counted: 0, batches };
  const ids = await deps.store.batchIds(command.message_id, open);
  const results = await Promise.all(open.map((batch) => countBatch(deps, command, batch, { agentIds: ids.get(batch.index) ?? [], timeoutMs })));
  const after = new Map(results.map((r) => [r.batch.index, r.batch]));
  const sum = (key: keyof ReplyCount): number => results.reduce((total, r) => total + r[key], 0);
  return { waiting: sum("waiting"), expired: sum("expired"), counted: sum("counted"), batches: batches.map((b) => after.get(b.index) ?? b) };
}

/**
 * Of the batches read now, those a count of this tick has not seen SENT (`earlier`): sent since
 * (by this tick's claims, or a sender elsewhere). The batches it saw SENT are its to answer for:
 * its `waiting` stands for their agents (replies since are counted by a later tick).
 */
export const sentSince = (batches: readonly BatchItem[], earlier: CountedReplies): BatchItem[] => {
  const seen = new Set(earlier.batches.filter((b) => b.state === "SENT").map((b) => b.index));
  return batches.filter((b) => b.state === "SENT" && !seen.has(b.index));
};

async function countBatch(
  deps: Pick<CommandDeps, "store" | "now" | "logger">,
  command: CommandItem,
  batch: BatchItem,
  of: { agentIds: readonly string[]; timeoutMs: number },
): Promise<ReplyCount & { batch: BatchItem }> {
  const messageId = command.message_id;
  const items = new Map<string, Pick<AgentCommandItem, "outcome" | "by_batch">>(await deps.store.agentsByIds(command, of.agentIds));
  const now = deps.now();
  const overdue = now >= (batch.sent_at ?? now) + of.timeoutMs;
  const silent = of.agentIds.filter((id) => !items.has(id));
  let waiting = 0;
  let expired = 0;
  if (!overdue) waiting = silent.length;
  else {
    const timedOut = await Promise.all(
      silent.map((agentId) => deps.store.timeOutByBatch(command, { agentId, batch: batch.index, now, expiresAt: command.expires_at })),
    );
    silent.forEach((agentId, i) => {
      if (timedOut[i]) {
        items.set(agentId, { outcome: "TIMED_OUT", by_batch: true });
        expired++;
      }
      // Refused: a reply created its item since the read. It is counted by the next count; until then it is awaited.
      else waiting++;
    });
  }
  const from = { settled: batch.settled ?? 0, errors: batch.reply_errors ?? 0 };
  const to = batchSettles(of.agentIds, items);
  if (to.settled === from.settled) return { waiting, expired, counted: 0, batch };
  // Lost to another count (or the batch moved on): that one's figures stand, the next count starts from them.
  const moved = await deps.store.countSettled(messageId, batch, { from, to, now });
  if (!moved) {
    deps.logger?.info("command batch count lost to another", { message_id: messageId, batch: batch.index });
    return { waiting: waiting + 1, expired, counted: 0, batch };
  }
  return { waiting, expired, counted: 1, batch: { ...batch, settled: to.settled, reply_errors: to.errors, reply_timeouts: to.timeouts } };
}
