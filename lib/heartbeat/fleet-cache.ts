/**
 * The fleet as a warm heartbeat instance last read it, kept in module scope by table, so a poll
 * reads `meta`/`polled` (one small item) and re-queries only the partitions whose revision moved
 * since it read them: every writer of a partition's agents moves its revision after its write
 * (lib/fleet/store.ts), and the poll's own writes update the cache as they land. A partition is
 * also re-read once every FLEET_PARTITIONS poll minutes whatever its revision (one partition a
 * minute, in turn), so a writer that died between its write and its bump is seen within the hour.
 */
import { FLEET_PARTITIONS, partitionOf, type FleetAgent, type FleetCalls, type PartitionMarks } from "../fleet/store.ts";

/** What the cache reads the fleet from. */
export interface FleetSource {
  agentsOf(partitions: readonly number[], calls: FleetCalls): Promise<FleetAgent[]>;
}

interface CachedPartition {
  /** The revision the agents were read (or last written) at. */
  rev: number;
  readonly agents: Map<string, FleetAgent>;
}

/** One partition's agents, as a shard reads them. */
export interface PartitionAgents {
  readonly partition: number;
  readonly agents: ReadonlyMap<string, FleetAgent>;
}

/** The partition due for its periodic re-read at `at`: one a minute, in turn. */
export const refreshedPartition = (at: number): number => Math.floor(at / 60_000) % FLEET_PARTITIONS;

/**
 * Agents a warm instance keeps at most. An instance may run every shard of a poll in turn and would
 * then hold the whole fleet: 63.7 MB of heap at 100,000 agents (`npm run bench heartbeat`), so
 * ≈ 640 MB at 1,000,000 against the heartbeat's 1024 MB. 400,000 is ≈ 255 MB; past it the partitions
 * read least recently are forgotten (a later poll that needs them reads them again).
 */
export const FLEET_CACHE_MAX_AGENTS = 400_000;

export class FleetCache {
  /** In the order they were last read: the first ones are forgotten first. */
  private readonly partitions = new Map<number, CachedPartition>();

  constructor(private readonly maxAgents: number = FLEET_CACHE_MAX_AGENTS) {}

  /**
   * The agents of `partitions` as of now: cached ones whose revision still holds, the others (and
   * the one due for its periodic re-read) queried, in one call. Returns them by partition, in order,
   * and how many partitions were queried.
   */
  async read(
    source: FleetSource,
    partitions: readonly number[],
    marks: PartitionMarks,
    at: number,
    calls: FleetCalls,
  ): Promise<{ readonly partitions: PartitionAgents[]; readonly queried: number }> {
    const revOf = (p: number): number => marks.revisions.get(p) ?? 0;
    const stale = partitions.filter((p) => p === refreshedPartition(at) || this.partitions.get(p)?.rev !== revOf(p));
    if (stale.length > 0) {
      const read = await source.agentsOf(stale, calls);
      const fresh = new Map(stale.map((p): [number, CachedPartition] => [p, { rev: revOf(p), agents: new Map() }]));
      for (const agent of read) fresh.get(partitionOf(agent.agent_id))?.agents.set(agent.agent_id, agent);
      for (const [p, entry] of fresh) this.partitions.set(p, entry);
    }
    const ordered = [...partitions].sort((a, b) => a - b).map((p) => ({ partition: p, agents: this.partitions.get(p)?.agents ?? new Map() }));
    this.touch(partitions);
    return { partitions: ordered, queried: stale.length };
  }

  /** Agents held, over every partition. */
  get size(): number {
    let agents = 0;
    for (const entry of this.partitions.values()) agents += entry.agents.size;
    return agents;
  }

  /**
   * Moves the partitions just read to the end of the order, then forgets partitions from its start
   * while more than maxAgents are held; never the ones just read, which the poll is using.
   */
  private touch(read: readonly number[]): void {
    const inUse = new Set(read);
    for (const p of inUse) {
      const entry = this.partitions.get(p);
      if (entry === undefined) continue;
      this.partitions.delete(p);
      this.partitions.set(p, entry);
    }
    let held = this.size;
    for (const [p, entry] of this.partitions) {
      if (held <= this.maxAgents) break;
      if (inUse.has(p)) continue;
      this.partitions.delete(p);
      held -= entry.agents.size;
    }
  }

  /** A write of the poll's landed: the cache holds the agent as written. */
  written(partition: number, agent: FleetAgent): void {
    this.partitions.get(partition)?.agents.set(agent.agent_id, agent);
  }

  /**
   * The partitions' revisions after the poll's own bump: one more than the cache's means only the
   * poll wrote them since; anything else means another writer did too, and they are read again.
   */
  bumped(revisions: ReadonlyMap<number, number>): void {
    for (const [p, rev] of revisions) {
      const entry = this.partitions.get(p);
      if (entry !== undefined && rev === entry.rev + 1) entry.rev = rev;
      else this.partitions.delete(p);
    }
  }

  /** Forgets partitions (a write that found the item changed, a shard that failed): the next poll reads them. */
  drop(partitions: Iterable<number>): void {
    for (const p of partitions) this.partitions.delete(p);
  }
}

const caches = new Map<string, FleetCache>();

/** The instance's cache of one fleet table (module scope: it lives as long as the warm instance). */
export function fleetCacheOf(tableName: string): FleetCache {
  let cache = caches.get(tableName);
  if (cache === undefined) {
    cache = new FleetCache();
    caches.set(tableName, cache);
  }
  return cache;
}
