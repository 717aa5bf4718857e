import type { AgentItem, AgentRenewal, AgentStore, RenewResult, StoreCalls } from "../../../lib/agent-state/store.ts";

/** The agents table in memory, with DynamoDB's conditional-renewal semantics and failure switches. */
export class MemoryStore implements AgentStore {
  readonly items = new Map<string, AgentItem>();
  failReads = false;
  failWrites = false;
  puts = 0;
  renewals = 0;

  readonly read: string[] = [];

  /** When set, every part after the first waits for it: a table read still under way. */
  gate: Promise<void> | undefined;

  /** Reads in parts of 100, reporting each as DynamoAgentStore does. */
  async getMany(
    ids: readonly string[],
    calls: StoreCalls,
    onPart?: (ids: readonly string[], found: ReadonlyMap<string, AgentItem>) => void,
  ): Promise<Map<string, AgentItem>> {
    this.read.push(...ids);
    if (this.failReads) throw new Error("table unreachable");
    const found = new Map<string, AgentItem>();
    for (let i = 0; i < ids.length; i += 100) {
      if (i > 0 && this.gate) await this.gate;
      calls.batchGet++;
      const part = ids.slice(i, i + 100);
      const partFound = new Map(
        part.flatMap((id): [string, AgentItem][] => {
          const item = this.items.get(id);
          return item ? [[id, { ...item }]] : [];
        }),
      );
      for (const [id, item] of partFound) found.set(id, item);
      onPart?.(part, partFound);
    }
    return found;
  }

  async putMany(items: readonly AgentItem[], calls: StoreCalls): Promise<{ failed: number }> {
    calls.batchWrite += Math.ceil(items.length / 25);
    if (this.failWrites) throw new Error("table unreachable");
    for (const item of items) this.items.set(item.agent_id, { ...item });
    this.puts += items.length;
    return { failed: 0 };
  }

  async renewMany(renewals: readonly AgentRenewal[], calls: StoreCalls): Promise<RenewResult> {
    calls.batchStatement += Math.ceil(renewals.length / 25);
    if (this.failWrites) throw new Error("table unreachable");
    let renewed = 0;
    let conflicts = 0;
    for (const r of renewals) {
      const current = this.items.get(r.agent_id);
      if (current === undefined || current.fetched_at !== r.seen_fetched_at) {
        conflicts++;
        continue;
      }
      this.items.set(r.agent_id, { ...current, fetched_at: r.fetched_at, expires_at: r.expires_at });
      renewed++;
    }
    this.renewals += renewed;
    return { renewed, conflicts, failed: 0 };
  }
}
