/**
 * Closing an ended command: batches not sent are SKIPPED, agents waiting for a retry FAILED for
 * good, then the agents are counted and the counts stored. Every write is conditional, so it may
 * run any number of times, concurrently or after a crash at any step, and converges.
 */
import { isWaitingForRetry, tallyOutcomes } from "./outcomes.ts";
import type { OutcomeCounts } from "./schemas.ts";
import type { CommandStore } from "./store.ts";
import type { BatchItem, CommandItem } from "./store/items.ts";

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
 * Brings an ended command to its final outcomes and stores the counts they make (stopCommand runs
 * it, and recovery again before the alert when the counts are not final); a retry job that comes
 * later finds its agent final and does nothing. Once the alert went out the stored counts are the
 * alert's and are kept (the answer carries them).
 */
export async function closeCommand(deps: CloseDeps, command: CommandItem): Promise<ClosedCommand> {
  if (command.status === "RUNNING") throw new Error(`command ${command.message_id} is still RUNNING: only an ended command is closed`);
  const batches = await skipUnsentBatches(deps, command);
  const counts = await giveUpAndCount(deps, command, batches);
  return recordCounts(deps, command, counts);
}

/**
 * Batches not sent yet never will be, nor those whose sender died (lease run out: nobody takes a
 * batch over once the command stopped); returns the batches as they are now (a late sender may
 * have claimed one first). A batch whose sender is still at work stays SENDING: that sender
 * closes the command again when it is done (lib/commands/send.ts).
 */
async function skipUnsentBatches(deps: CloseDeps, command: CommandItem): Promise<BatchItem[]> {
  const now = deps.now();
  const batches = await deps.store.batches(command.message_id, command.body_hash);
  const unsent = batches.filter((b) => b.state === "PENDING" || (b.state === "SENDING" && (b.lease_until ?? 0) < now));
  if (unsent.length === 0) return batches;
  for (const batch of unsent) await deps.store.skipBatch(command.message_id, batch, now);
  return deps.store.batches(command.message_id, command.body_hash);
}

/** One pass over the agents: each one waiting for a retry is given up (conditional), each is counted by its final outcome. */
async function giveUpAndCount(deps: CloseDeps, command: CommandItem, batches: readonly BatchItem[]): Promise<OutcomeCounts> {
  const now = deps.now();
  return tallyOutcomes(deps.store, command, batches, async (item) => {
    if (isWaitingForRetry(item)) await deps.store.giveUp(command, item.agent_id, now);
  });
}

/** Stores the counts, unless the alert went out first: then its counts stay, and are returned. */
async function recordCounts(deps: CloseDeps, command: CommandItem, counts: OutcomeCounts): Promise<ClosedCommand> {
  await deps.store.setCounts(command.message_id, counts);
  const stored = (await deps.store.getCommand(command.message_id)) ?? command;
  return { ...stored, counts: stored.alerted_at !== undefined && stored.counts ? stored.counts : counts };
}
