/**
 * The heartbeat in steady state against the shared stack's parts: a warm instance keeps the fleet
 * in memory and re-reads only partitions another writer changed (lib/heartbeat/fleet-cache.ts),
 * and a down agent is written when it turns suspect and when it is lost, not for each miss between.
 */
import { describe, expect, it } from "vitest";
import { putLabels } from "../../../lib/fleet/labels.ts";
import { listAgents, registerAgents, unregisterAgents } from "../../../lib/fleet/service.ts";
import { FLEET_PARTITIONS, newFleetCalls, partitionOf } from "../../../lib/fleet/store.ts";
import { fleetCacheOf, refreshedPartition } from "../../../lib/heartbeat/fleet-cache.ts";
import { runShard, startPoll, type StartResult } from "../../../lib/heartbeat/poll.ts";
import { addSimAgents, setSimStatus, testHeartbeat, type TestHeartbeat } from "../../helpers/heartbeat.ts";
import { useStack, withFaults } from "../../helpers/stack.ts";

const { info } = useStack();
const MINUTE = 60_000;
const ALL = Array.from({ length: FLEET_PARTITIONS }, (_, p) => p);

async function poll(hb: TestHeartbeat): Promise<StartResult> {
  hb.clock.now += MINUTE;
  const started = await startPoll(hb.deps, hb.clock.now);
  while (hb.queued.length > 0) await runShard(hb.deps, hb.queued.shift()!);
  return started;
}

const fleetDeps = (hb: TestHeartbeat) => ({ store: hb.store, now: () => hb.clock.now, settings: { evictAfterSeconds: 30 * 86_400 } });
const summaryAgents = async (hb: TestHeartbeat): Promise<unknown> => (await hb.store.getMeta("summary", newFleetCalls()))?.agents;

describe("heartbeat in steady state", () => {
  it("polls an agent registered between two polls of a warm instance, drops one unregistered, and holds labels written between them", async () => {
    const hb = await testHeartbeat();
    const { ids } = await addSimAgents(info, 3);
    const [gone, labelled, added] = ids as [string, string, string];
    await registerAgents(fleetDeps(hb), [gone, labelled], "api");
    await poll(hb);
    expect(await summaryAgents(hb)).toBe(2);

    await registerAgents(fleetDeps(hb), [added], "api");
    await poll(hb);
    expect(await summaryAgents(hb)).toBe(3);
    expect((await hb.store.getAgent(added, newFleetCalls()))?.status).toBe("alive");

    await unregisterAgents(fleetDeps(hb), [gone]);
    await putLabels(hb, labelled, { team: "blue" });
    // It goes down too: a poll that still held it would write it back (or count it).
    await setSimStatus(info, [gone], 3);
    await poll(hb);
    expect(await summaryAgents(hb)).toBe(2);
    expect(await hb.store.getAgent(gone, newFleetCalls())).toBeUndefined();

    // What the instance holds now, without a read (the source throws): the labels written between the polls.
    const marks = await hb.store.partitionMarks(newFleetCalls());
    const partition = partitionOf(labelled);
    // A time at which another partition is due for its periodic re-read.
    const at = ((partition + 1) % FLEET_PARTITIONS) * MINUTE;
    expect(refreshedPartition(at)).not.toBe(partition);
    const noRead = { agentsOf: async () => Promise.reject(new Error("read")) };
    const held = await fleetCacheOf(hb.store.tableName).read(noRead, [partition], marks, at, newFleetCalls());
    expect(held.partitions[0]?.agents.get(labelled)?.labels).toEqual({ team: "blue" });
  });

  it("reads no partition of a fleet nobody wrote since the last poll but the one due for its periodic re-read", async () => {
    const hb = await testHeartbeat();
    const { ids } = await addSimAgents(info, 20);
    await registerAgents(fleetDeps(hb), ids, "api");
    const first = await poll(hb);
    expect(first.first?.result.partitions_read).toBe(FLEET_PARTITIONS);
    for (let i = 0; i < 3; i++) {
      const quiet = await poll(hb);
      expect(quiet.first?.result.partitions_read).toBe(1);
      expect(quiet.first?.result.polled).toBe(20);
    }
    // Another instance (a cold one) sees the same fleet.
    expect((await hb.store.agentsOf(ALL, newFleetCalls())).length).toBe(20);
  });

  it("writes a down agent when it turns suspect and when it is lost, and nothing for the misses between, which the view counts", async () => {
    const hb = await testHeartbeat({ lostAfterPolls: 4 });
    const { ids } = await addSimAgents(info, 2);
    const down = ids[0]!;
    await registerAgents(fleetDeps(hb), ids, "api");
    await poll(hb);
    await hb.takeAlerts();
    const rev = async (): Promise<number | undefined> => (await hb.store.getAgent(down, newFleetCalls()))?.rev;
    const before = await rev();
    await setSimStatus(info, [down], 3);
    const revs: (number | undefined)[] = [];
    const misses: number[] = [];
    for (let i = 0; i < 4; i++) {
      await poll(hb);
      revs.push(await rev());
      const view = (await listAgents(fleetDeps(hb), { limit: 100 })).agents.find((a) => a.agent_id === down);
      misses.push(view?.misses ?? -1);
    }
    expect(revs).toEqual([before! + 1, before! + 1, before! + 1, before! + 2]);
    expect(misses).toEqual([1, 2, 3, 4]);
    const alerts = await hb.takeAlerts();
    expect(alerts.map((a) => [a.kind, a.count])).toEqual([["lost", 1]]);
  });

  it("writes the miss of an agent whose partition a failed chunk left unanswered, so it is lost after K polls all the same", async () => {
    const hb = await testHeartbeat({ chunkSize: 1 });
    const { ids } = await addSimAgents(info, 40);
    const byPartition = new Map<number, string[]>();
    for (const id of ids) byPartition.set(partitionOf(id), [...(byPartition.get(partitionOf(id)) ?? []), id]);
    const pair = [...byPartition.values()].find((group) => group.length >= 2);
    if (pair === undefined) throw new Error("no two agents share a partition");
    const [down, neighbour] = pair as [string, string];
    await registerAgents(fleetDeps(hb), [down, neighbour], "api");
    await poll(hb);
    await hb.takeMessages();
    await setSimStatus(info, [down], 3);
    await poll(hb); // miss 1, written
    // Miss 2: the neighbour's chunk fails, so the partition's poll does not count; the miss is written instead.
    await withFaults(info, [{ kind: "http_error", status: 502, operation: "list_agent_state", match: `"${neighbour}"` }], () => poll(hb));
    expect((await hb.store.getAgent(down, newFleetCalls()))?.misses).toBe(2);
    await poll(hb); // miss 3: lost
    const kinds = (await hb.takeAlerts()).map((a) => a.kind).sort();
    expect(kinds).toContain("lost");
    expect((await hb.store.getAgent(down, newFleetCalls()))?.status).toBe("lost");
  });

  it("marks all 64 partitions polled and moves their revisions in one write, and counts a poll once however often it marks them", async () => {
    const hb = await testHeartbeat();
    const calls = newFleetCalls();
    const at = hb.clock.now + MINUTE;
    expect([...(await hb.store.markPolled(ALL, at, calls, ALL)).values()]).toEqual(ALL.map(() => 1));
    // A re-run of the same poll (or a late shard of an older one) counts no poll again; its writes still move the revisions.
    await hb.store.markPolled(ALL, at, calls, [0]);
    await hb.store.markPolled([5], at - MINUTE, calls);
    const marks = await hb.store.partitionMarks(newFleetCalls());
    expect(ALL.map((p) => marks.polls.get(p))).toEqual(ALL.map(() => 1));
    expect(ALL.map((p) => marks.polledAt.get(p))).toEqual(ALL.map(() => at));
    expect(marks.revisions.get(0)).toBe(2);
    expect(calls.writes).toBeLessThanOrEqual(5);
  });
});
