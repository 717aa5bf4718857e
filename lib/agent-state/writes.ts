/**
 * The agent state cache's writes: full items and conditional renewals, and facts written over
 * the items as they are now. Used by a lookup that writes before answering, by its fallback when
 * the write-behind queue is down, and by the write-back job (write-back.ts).
 */
import { writeBackFor } from "./rules.ts";
import { newStoreCalls, type AgentFacts, type AgentItem, type AgentRenewal, type AgentStore, type StoreCalls } from "./store.ts";

/** What GSE said about one agent, as a write-back carries it. */
export type AgentFactsOf = AgentFacts & { readonly agent_id: string };

export interface WriteCounts {
  written: number;
  renewed: number;
  renew_conflicts: number;
  write_failures: number;
}

/** Full items and conditional renewals, side by side; what could not be written is counted, not thrown. */
export async function storeWrites(store: AgentStore, puts: readonly AgentItem[], renewals: readonly AgentRenewal[], calls: StoreCalls): Promise<WriteCounts> {
  const [put, renew] = await Promise.all([
    puts.length ? store.putMany(puts, calls) : { failed: 0 },
    renewals.length ? store.renewMany(renewals, calls) : { renewed: 0, conflicts: 0, failed: 0 },
  ]);
  return { written: puts.length - put.failed, renewed: renew.renewed, renew_conflicts: renew.conflicts, write_failures: put.failed + renew.failed };
}

export interface WriteBackResult extends WriteCounts {
  readonly agents: number;
  /** Ids the table had no item for and GSE knows: agents seen for the first time. */
  readonly first_seen: readonly string[];
  /** Items confirmed at or after the job's time (a newer lookup, or this job already applied). */
  readonly superseded: number;
  /** Unchanged and confirmed less than half a TTL before: nothing worth a write. */
  readonly unchanged: number;
  readonly dynamo_calls: StoreCalls;
}

/**
 * Writes facts GSE confirmed at `fetchedAt` over the items as they are now (read first, so a state
 * confirmed later by someone else is left alone); what could not be written is counted.
 */
export async function writeOver(
  store: AgentStore,
  ttlMs: number,
  fetchedAt: number,
  agents: readonly AgentFactsOf[],
  calls: StoreCalls,
): Promise<Omit<WriteBackResult, "dynamo_calls">> {
  const current = await store.getMany(
    agents.map((a) => a.agent_id),
    calls,
  );
  const puts: AgentItem[] = [];
  const renewals: AgentRenewal[] = [];
  let superseded = 0;
  let unchanged = 0;
  const firstSeen: string[] = [];
  for (const { agent_id, ...facts } of agents) {
    const item = current.get(agent_id);
    if (item === undefined && facts.known) firstSeen.push(agent_id);
    if (item !== undefined && item.fetched_at >= fetchedAt) {
      superseded++;
      continue;
    }
    const write = writeBackFor(agent_id, facts, item, fetchedAt, ttlMs);
    if (write.kind === "put") puts.push(write.item);
    else if (write.kind === "renew") renewals.push(write.renewal);
    else unchanged++;
  }
  const counts = await storeWrites(store, puts, renewals, calls);
  return { agents: agents.length, first_seen: firstSeen, superseded, unchanged, ...counts };
}

/** A write-back job applied (writeOver); throws when some could not be written, to be retried. */
export async function applyWriteBack(
  deps: { store: AgentStore; ttlMs: number },
  job: { readonly fetched_at: number; readonly agents: readonly AgentFactsOf[] },
): Promise<WriteBackResult> {
  const calls = newStoreCalls();
  const result = await writeOver(deps.store, deps.ttlMs, job.fetched_at, job.agents, calls);
  // Safe to run again: what was written is superseded on the next delivery.
  if (result.write_failures > 0) throw new Error(`${result.write_failures} of ${job.agents.length} agent items could not be written`);
  return { ...result, dynamo_calls: calls };
}
