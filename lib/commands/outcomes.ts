/**
 * Agents' outcomes as the API and the alerts tell them (the stored outcome, read with its batch's
 * state and whether the command ended), and the counts they make.
 */
import { AGENT_OUTCOMES, type AgentOutcome, type CommandStatus, type OutcomeCounts } from "./schemas.ts";
import type { CommandStore } from "./store.ts";
import { agentKey, TTL, type AgentCommandItem, type BatchItem, type CommandItem } from "./store/items.ts";

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
 * Counts every agent's outcome (effectiveOutcome): an agent without an item is as its batch says
 * (SENT once its batch is, PENDING before, SKIPPED once the command ended unsent). `visit` sees
 * each agent item as it is counted. Only items are read: a sparse command's delivered agents
 * are counted from their batches.
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
  for await (const page of store.agentItems(command, true)) {
    for (const item of page) {
      if (visit) await visit(item);
      counts[effectiveOutcome(item, states, ended)]++;
      itemsPerBatch.set(item.batch, (itemsPerBatch.get(item.batch) ?? 0) + 1);
    }
  }
  for (const batch of batches) {
    const without = Math.max(0, batch.size - (itemsPerBatch.get(batch.index) ?? 0));
    counts[effectiveOutcome({ outcome: "PENDING", batch: batch.index }, states, ended)] += without;
  }
  return counts;
}

/**
 * Whether a batch's agents are listed one by one: it went to a sender (claimed, sent, or given
 * back by GSE to be sent again). Agents of batches never claimed are only counted.
 */
export const listedBatch = (batch: Pick<BatchItem, "state" | "claim" | "attempts">): boolean =>
  batch.state === "SENT" || batch.state === "SENDING" || batch.claim !== undefined || (batch.attempts ?? 1) > 1;

/** What stands for an agent of a sparse command that has no item: PENDING in its batch, as of the batch's send. */
export function standIn(command: CommandItem, batch: Pick<BatchItem, "index" | "sent_at">, agentId: string): AgentCommandItem {
  return {
    ...agentKey(command, agentId),
    agent_id: agentId,
    batch: batch.index,
    outcome: "PENDING",
    attempts: 1,
    updated_at: batch.sent_at ?? command.created_at,
    [TTL]: command.expires_at,
  };
}

/**
 * Every agent of the command's listed batches, a page at a time: its item, or its stand-in when
 * it has none (a sparse command's agent nothing happened to). Without sparse agents: the items.
 */
export async function* commandAgents(
  store: Pick<CommandStore, "agentItems" | "batches" | "batchIds">,
  command: CommandItem,
): AsyncGenerator<AgentCommandItem[]> {
  if (command.sparse_agents !== true) {
    yield* store.agentItems(command, true);
    return;
  }
  const items = new Map<string, AgentCommandItem>();
  for await (const page of store.agentItems(command, true)) for (const item of page) items.set(item.agent_id, item);
  for (const batch of (await store.batches(command.message_id, command.body_hash)).filter(listedBatch)) {
    const ids = (await store.batchIds(command.message_id, [batch])).get(batch.index) ?? [];
    yield ids.map((id) => items.get(id) ?? standIn(command, batch, id));
    for (const id of ids) items.delete(id);
  }
  // Items of agents no listed batch holds (none, unless written by hand): still theirs to show.
  if (items.size > 0) yield [...items.values()];
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
