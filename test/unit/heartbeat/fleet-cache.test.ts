/**
 * The warm instance's fleet (lib/heartbeat/fleet-cache.ts) is bounded: past maxAgents it forgets the
 * partitions read least recently, never the ones a poll is using, and reads a forgotten one again.
 */
import { describe, expect, it } from "vitest";
import { FleetCache, refreshedPartition, type FleetSource } from "../../../lib/heartbeat/fleet-cache.ts";
import { FLEET_PARTITIONS, newFleetCalls, partitionOf, type FleetAgent, type PartitionMarks } from "../../../lib/fleet/store.ts";

/** 20 agents in each partition, by id. */
const byPartition = new Map<number, FleetAgent[]>();
for (let i = 0; byPartition.size < FLEET_PARTITIONS || [...byPartition.values()].some((a) => a.length < 20); i++) {
  const id = `agent-${i}`;
  const agents = byPartition.get(partitionOf(id)) ?? [];
  if (agents.length < 20) agents.push({ agent_id: id } as FleetAgent);
  byPartition.set(partitionOf(id), agents);
}

/** A source that counts the partitions it is asked for. */
function source(): FleetSource & { asked: number[] } {
  const asked: number[] = [];
  return {
    asked,
    agentsOf: async (partitions) => {
      asked.push(...partitions);
      return partitions.flatMap((p) => byPartition.get(p) ?? []);
    },
  };
}

const marks: PartitionMarks = { polledAt: new Map(), polls: new Map(), revisions: new Map() };
/** A time at which none of partitions 0-9 is due for its periodic re-read. */
const AT = 30 * 60_000;

describe("FleetCache", () => {
  it("keeps every partition it read while under maxAgents, and reads none of them again", async () => {
    expect(refreshedPartition(AT)).toBe(30);
    const cache = new FleetCache(1_000);
    const from = source();
    await cache.read(from, [0, 1, 2], marks, AT, newFleetCalls());
    await cache.read(from, [0, 1, 2], marks, AT, newFleetCalls());
    expect([from.asked, cache.size]).toEqual([[0, 1, 2], 60]);
  });

  it("past maxAgents forgets the partitions read least recently, never those the read returns", async () => {
    const cache = new FleetCache(50);
    const from = source();
    await cache.read(from, [0, 1], marks, AT, newFleetCalls());
    await cache.read(from, [2], marks, AT, newFleetCalls());
    // 60 held, 50 allowed: partition 0, the least recently read, is forgotten.
    expect(cache.size).toBe(40);
    from.asked.length = 0;
    await cache.read(from, [1, 2], marks, AT, newFleetCalls());
    expect(from.asked).toEqual([]);
    // Reading 0 again brings it back; 1 is now the least recently read and goes.
    await cache.read(from, [0], marks, AT, newFleetCalls());
    expect(from.asked).toEqual([0]);
    from.asked.length = 0;
    await cache.read(from, [2, 0], marks, AT, newFleetCalls());
    expect([from.asked, cache.size]).toEqual([[], 40]);
  });

  it("keeps a read larger than maxAgents whole: the poll uses all of it", async () => {
    const cache = new FleetCache(30);
    const read = await cache.read(source(), [3, 4, 5], marks, AT, newFleetCalls());
    expect(read.partitions.map((p) => p.agents.size)).toEqual([20, 20, 20]);
    expect(cache.size).toBe(60);
  });
});
