/**
 * Agents' outcomes as the API and the alerts tell them (the stored outcome, read with its batch's
 * state and whether the command ended), and the counts they make.
 */
import { AGENT_OUTCOMES, type AgentOutcome, type CommandStatus, type OutcomeCounts } from "./schemas.ts";
import type { CommandStore } from "./store.ts";
import type { AgentCommandItem, BatchItem, CommandItem } from "./store/items.ts";

/**
 * An agent's outcome as the API tells it: a PENDING item whose batch went out was SENT, and a
 * FAILED one with attempts left is RETRYING already (recovery is about to queue its next attempt).
 * Once the command has ended nothing more is sent: an agent still waiting for a retry is FAILED
 * (closeCommand gives it up), and one of a batch that never went out (released by GSE, then
 * skipped) is SKIPPED. Only an agent of a batch still in flight stays PENDING.
 */
export function effectiveOutcome(
  item: Pick<AgentCommandItem, "outcome" | "batch" | "final">,
  batchStates: ReadonlyMap<number, BatchItem["state"]>,
  ended = false,
): AgentOutcome {
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
export async function tallyOutcomes(
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

/**
 * The final status a command's counts mean (it ran to its end: not aborted, not cancelled). With
 * max_errors given the command ran within it (else it would have aborted): SUCCEEDED, as SSM Run
 * Command has it; the counts still show the agents that failed.
 */
export function finalStatus(counts: OutcomeCounts, withinMaxErrors = false): Exclude<CommandStatus, "RUNNING" | "ABORTED" | "CANCELLED"> {
  if (withinMaxErrors) return "SUCCEEDED";
  const bad = counts.FAILED + counts.TIMED_OUT + counts.SKIPPED + counts.PENDING + counts.RETRYING;
  const total = AGENT_OUTCOMES.reduce((sum, o) => sum + counts[o], 0);
  if (bad === 0) return "SUCCEEDED";
  return bad === total ? "FAILED" : "PARTIAL";
}
