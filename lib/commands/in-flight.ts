/**
 * The in-flight window's recount (docs/rollouts.md §1): what `in_flight` should be, from the
 * batches and agents themselves. Every claim and settle moves the counter in its own transaction
 * (replies counted per batch in the transaction of the batch's count), so it is exact but for
 * rare overlaps (a dead sender's batch skipped after some of its agents settled, a reply racing a
 * whole-batch refusal); the sweep and the watchdog of a stopped command mend it from here.
 */
import type { CommandDeps } from "./settings.ts";
import type { AgentCommandItem, BatchItem, CommandItem } from "./store/items.ts";

/** Whether one agent is in flight: claimed for sending and not settled (RETRYING counts; SENT only while a reply is awaited). */
export function agentInFlight(
  item: Pick<AgentCommandItem, "outcome" | "final" | "batch">,
  batchState: BatchItem["state"] | undefined,
  tracked: boolean,
): boolean {
  switch (item.outcome) {
    case "RETRYING":
      return true;
    case "FAILED":
      return item.final !== true;
    case "SENT":
      return tracked;
    case "PENDING":
      return batchState === "SENDING" || (batchState === "SENT" && tracked);
    default:
      return false;
  }
}

/**
 * The command's agents in flight, counted: agents of a batch in a sender's hands that have no item
 * yet count too, and so, with replies awaited, do a SENT batch's agents that have no item or whose
 * item its count has not settled yet (`by_batch`: they leave the window with their batch's count,
 * lib/commands/reply-count.ts, so the counter and the batch's count stay in step).
 */
export async function recountInFlight(deps: Pick<CommandDeps, "store">, command: CommandItem): Promise<number> {
  const batches = await deps.store.batches(command.message_id, command.body_hash);
  const states = new Map(batches.map((b) => [b.index, b.state]));
  const tracked = command.reply_timeout_seconds !== null;
  const ownItemsPerBatch = new Map<number, number>();
  let inFlight = 0;
  for await (const page of deps.store.agentItems(command, true)) {
    for (const item of page) {
      if (item.by_batch === true) continue;
      if (agentInFlight(item, states.get(item.batch), tracked)) inFlight++;
      ownItemsPerBatch.set(item.batch, (ownItemsPerBatch.get(item.batch) ?? 0) + 1);
    }
  }
  for (const b of batches) {
    const withoutOwnItem = Math.max(0, b.size - (ownItemsPerBatch.get(b.index) ?? 0));
    if (b.state === "SENDING") inFlight += withoutOwnItem;
    else if (b.state === "SENT" && tracked && command.sparse_agents === true) inFlight += Math.max(0, withoutOwnItem - (b.settled ?? 0));
  }
  return inFlight;
}

/** Sets in_flight to the recount when they differ (only if the command did not change meanwhile); returns the recount. */
export async function mendInFlight(deps: Pick<CommandDeps, "store" | "logger">, command: CommandItem): Promise<number> {
  const counted = await recountInFlight(deps, command);
  if ((command.in_flight ?? 0) !== counted && (await deps.store.setInFlight(command, counted))) {
    deps.logger?.warn("command in_flight mended", { message_id: command.message_id, was: command.in_flight ?? 0, now: counted });
  }
  return counted;
}
