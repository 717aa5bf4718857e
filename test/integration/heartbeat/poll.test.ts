/**
 * The heartbeat poll against the shared stack's real DynamoDB Local, SNS/SQS emulator and GSE
 * simulator, on a clock of the test's own (each poll is "one minute later"); each test has its
 * own fleet table and alerts topic (test/helpers/heartbeat.ts) and its own simulator agents.
 */
import { describe, expect, it } from "vitest";
import { registerAgents } from "../../../lib/fleet.ts";
import { runShard, startPoll, type StartResult } from "../../../lib/heartbeat/poll.ts";
import { newFleetCalls } from "../../../lib/store/fleet.ts";
import { addSimAgents, setSimStatus, testHeartbeat, type TestHeartbeat } from "../../helpers/heartbeat.ts";
import { simulatorControl, useStack, withFaults } from "../../helpers/stack.ts";

const { info } = useStack();
const MINUTE = 60_000;

/** One scheduled poll at the next minute, with every shard it queued run as the automation function would. */
async function poll(hb: TestHeartbeat): Promise<StartResult> {
  hb.clock.now += MINUTE;
  const started = await startPoll(hb.deps, hb.clock.now);
  while (hb.queued.length > 0) await runShard(hb.deps, hb.queued.shift()!);
  return started;
}

async function register(hb: TestHeartbeat, ids: readonly string[]): Promise<void> {
  await registerAgents({ store: hb.store, now: () => hb.clock.now, settings: { evictAfterSeconds: 30 * 86_400 } }, ids, "api");
}

const kinds = (alerts: readonly { kind: string }[]) => alerts.map((a) => a.kind).sort();

describe("heartbeat poll", () => {
  it("raises one lost alert naming the 5 agents that went down after K polls, and one recovered alert when they are back", async () => {
    const hb = await testHeartbeat();
    const { ids } = await addSimAgents(info, 8);
    const down = ids.slice(0, 5);
    await register(hb, ids);

    await poll(hb);
    const first = await hb.takeAlerts();
    expect(kinds(first)).toEqual(["newly_seen"]);
    expect(first[0]?.count).toBe(8);

    await setSimStatus(info, down, 3);
    await poll(hb);
    await poll(hb);
    expect(await hb.takeAlerts()).toEqual([]);
    await poll(hb);
    const lost = await hb.takeAlerts();
    expect(kinds(lost)).toEqual(["lost"]);
    expect(lost[0]?.count).toBe(5);
    expect(lost[0]?.sample.map((s) => s.agent_id).sort()).toEqual([...down].sort());
    // Each sampled agent carries GSE's last raw record: what the operator needs to see why.
    expect(lost[0]?.sample.every((s) => s.record?.status_code === 3)).toBe(true);
    await poll(hb);
    expect(await hb.takeAlerts()).toEqual([]);

    await setSimStatus(info, down, 2);
    await poll(hb);
    const recovered = await hb.takeAlerts();
    expect(kinds(recovered)).toEqual(["recovered"]);
    expect(recovered[0]?.sample.map((s) => s.agent_id).sort()).toEqual([...down].sort());
    await poll(hb);
    expect(await hb.takeAlerts()).toEqual([]);
  });

  it("marks no agent lost while GSE answers 5xx, and says so in one outage alert", async () => {
    const hb = await testHeartbeat();
    const { ids, prefix } = await addSimAgents(info, 4);
    await register(hb, ids);
    await poll(hb);
    await hb.takeAlerts();
    const before = await hb.store.agentsOf([...Array(64).keys()], newFleetCalls());

    await withFaults(info, [{ kind: "http_error", status: 502, operation: "list_agent_state", match: prefix }], async () => {
      for (let i = 0; i < 4; i++) await poll(hb);
    });
    const during = await hb.takeAlerts();
    expect(kinds(during)).toEqual(["gse_unreachable"]);
    const after = await hb.store.agentsOf([...Array(64).keys()], newFleetCalls());
    expect(after.map((a) => [a.agent_id, a.status, a.rev]).sort()).toEqual(before.map((a) => [a.agent_id, a.status, a.rev]).sort());

    await poll(hb);
    expect(kinds(await hb.takeAlerts())).toEqual(["gse_reachable"]);
  });

  it("does not let a GSE that never answers hold the poll past its deadline", async () => {
    const hb = await testHeartbeat({ budgetMs: 500 });
    const { ids, prefix } = await addSimAgents(info, 2);
    await register(hb, ids);
    const started = performance.now();
    await withFaults(info, [{ kind: "timeout", operation: "list_agent_state", match: prefix }], async () => {
      hb.clock.now += MINUTE;
      await startPoll(hb.deps, hb.clock.now);
    });
    // The client alone would wait 2 attempts of 2 s; the poll gives up at 1.1 x its budget.
    expect(performance.now() - started).toBeLessThan(1900);
    const alerts = await hb.takeAlerts();
    expect(kinds(alerts)).toEqual(["gse_unreachable"]);
    expect(alerts[0]?.detail).toContain("did not answer within the poll's time");
    for (const id of ids) expect((await hb.store.getAgent(id, newFleetCalls()))?.status).toBe("pending");
  });

  it("raises no alert storm for an agent that flaps every poll", async () => {
    const hb = await testHeartbeat();
    const { ids } = await addSimAgents(info, 2);
    const flapper = ids.slice(0, 1);
    await register(hb, ids);
    await poll(hb);
    await hb.takeAlerts();
    for (let i = 0; i < 10; i++) {
      await setSimStatus(info, flapper, i % 2 === 0 ? 3 : 2);
      await poll(hb);
    }
    expect(await hb.takeAlerts()).toEqual([]);
    const agent = await hb.store.getAgent(flapper[0]!, newFleetCalls());
    expect(agent?.status).toBe("alive");
  });

  it("reports ids GSE does not know as unknown, never as lost", async () => {
    const hb = await testHeartbeat();
    const { ids } = await addSimAgents(info, 1);
    const wrong = ["0:192.0.2.77", "99:198.51.100.3"];
    await register(hb, [...ids, ...wrong]);
    for (let i = 0; i < 4; i++) await poll(hb);
    const alerts = await hb.takeAlerts();
    expect(kinds(alerts)).toEqual(["newly_seen", "unknown"]);
    expect(alerts.find((a) => a.kind === "unknown")?.sample.map((s) => s.agent_id).sort()).toEqual([...wrong].sort());
    for (const id of wrong) expect((await hb.store.getAgent(id, newFleetCalls()))?.status).toBe("unknown");
  });

  it("writes nothing for agents that did not change, and derives their last_seen from the last poll", async () => {
    const hb = await testHeartbeat();
    const { ids } = await addSimAgents(info, 6);
    await register(hb, ids);
    await poll(hb);
    const revs = (await hb.store.agentsOf([...Array(64).keys()], newFleetCalls())).map((a) => a.rev);
    const quiet = await poll(hb);
    expect(quiet.first?.result.polled).toBe(6);
    expect(quiet.first?.result.transitions.lost.count).toBe(0);
    // Meta only (polled marks, shard result, run bookkeeping, summary): no agent item was written.
    const after = await hb.store.agentsOf([...Array(64).keys()], newFleetCalls());
    expect(after.map((a) => a.rev)).toEqual(revs);
    const { listAgents } = await import("../../../lib/fleet.ts");
    const page = await listAgents({ store: hb.store, now: () => hb.clock.now, settings: { evictAfterSeconds: 1 } }, { limit: 100 });
    expect(page.agents.map((a) => a.last_seen)).toEqual(ids.map(() => new Date(hb.clock.now).toISOString()));
  });

  it("reports a version change, and counts versions below the minimum as outdated", async () => {
    const hb = await testHeartbeat({ minVersion: "2.1.0" });
    const { ids } = await addSimAgents(info, 3, { version: "2.0.9" });
    await register(hb, ids);
    await poll(hb);
    await hb.takeAlerts();
    const upgraded = ids[0]!;
    const ip = upgraded.split(":")[1]!;
    await simulatorControl(info, "POST", "agents/remove", { ids: [upgraded] });
    await simulatorControl(info, "POST", "agents", { agents: [{ ip, bk_cloud_id: 0, version: "2.1.5", status_code: 2 }] });
    await poll(hb);
    const alerts = await hb.takeAlerts();
    expect(kinds(alerts)).toEqual(["version_changed"]);
    expect(alerts[0]?.sample[0]).toMatchObject({ agent_id: upgraded, version: "2.1.5", previous_version: "2.0.9" });
    const summary = await hb.store.getMeta("summary", newFleetCalls());
    expect(summary).toMatchObject({ agents: 3, outdated: 2, by_status: { alive: 3 } });
    expect(summary?.by_version).toEqual([
      { version: "2.0.9", count: 2, outdated: true },
      { version: "2.1.5", count: 1, outdated: false },
    ]);
  });

  it("fans a fleet that does not fit the budget out through the queue, and still raises one alert per kind", async () => {
    const hb = await testHeartbeat();
    const { ids } = await addSimAgents(info, 40);
    await register(hb, ids);
    // The last poll's cost says this fleet needs 3 shards.
    await hb.store.putMeta("planner", { fleet_size: 40, ms_per_agent: (3 * hb.deps.settings.budgetMs * 0.5) / 40 }, newFleetCalls());
    hb.clock.now += MINUTE;
    const started = await startPoll(hb.deps, hb.clock.now);
    expect(started.shards).toBe(3);
    expect(hb.queued.map((j) => j.shard)).toEqual(["1", "2"]);
    expect(started.first?.finished).toBe(false);
    expect(await hb.takeAlerts()).toEqual([]);
    const results = [];
    while (hb.queued.length > 0) results.push(await runShard(hb.deps, hb.queued.shift()!));
    expect(results.map((r) => r.finished)).toEqual([false, true]);
    const alerts = await hb.takeAlerts();
    expect(kinds(alerts)).toEqual(["newly_seen"]);
    expect(alerts[0]?.count).toBe(40);
  });

  it("hands chunks it cannot start within the budget back to the queue instead of running late", async () => {
    const hb = await testHeartbeat({ budgetMs: 0 });
    const { ids } = await addSimAgents(info, 3);
    await register(hb, ids);
    hb.clock.now += MINUTE;
    const started = await startPoll(hb.deps, hb.clock.now);
    expect(started.first?.result.polled).toBe(0);
    expect(started.first?.result.gse_calls).toBe(0);
    expect(hb.queued).toHaveLength(1);
    expect(hb.queued[0]?.shard).toBe("0+");
    // The leftover shard (a later invocation with its own budget) polls them and finishes the poll.
    const leftover = await runShard({ ...hb.deps, settings: { ...hb.deps.settings, budgetMs: 20_000 } }, hb.queued.shift()!);
    expect(leftover.result.polled).toBe(3);
    expect(leftover.finished).toBe(true);
    expect(kinds(await hb.takeAlerts())).toEqual(["newly_seen"]);
  });

  it("resumes a poll whose first attempt failed when the scheduled run is retried, and finishes it once", async () => {
    const hb = await testHeartbeat();
    const { ids } = await addSimAgents(info, 2);
    await register(hb, ids);
    let failures = 1;
    const flaky = Object.create(hb.store) as typeof hb.store;
    flaky.agentsOf = async (...args) => {
      if (failures-- > 0) throw new Error("DynamoDB unavailable");
      return hb.store.agentsOf(...args);
    };
    const deps = { ...hb.deps, store: flaky };
    hb.clock.now += MINUTE;
    await expect(startPoll(deps, hb.clock.now)).rejects.toThrow("DynamoDB unavailable");
    // Lambda retries the failed run a minute later; the poll keeps the tick's time.
    hb.clock.now += MINUTE;
    const retried = await startPoll(deps, hb.clock.now - MINUTE);
    expect(retried.duplicate).toBe(false);
    expect(retried.first?.finished).toBe(true);
    expect(kinds(await hb.takeAlerts())).toEqual(["newly_seen"]);
    expect((await startPoll(deps, hb.clock.now - MINUTE)).duplicate).toBe(true);
  });

  it("leaves an agent whose write DynamoDB refuses as it was, and records its change with the next poll", async () => {
    const hb = await testHeartbeat();
    const { ids } = await addSimAgents(info, 3);
    await register(hb, ids);
    const refused = ids[1]!;
    let refusals = 1;
    const flaky = Object.create(hb.store) as typeof hb.store;
    flaky.updateAgent = async (agent, ...rest) => {
      if (agent.agent_id === refused && refusals-- > 0) throw new Error("ProvisionedThroughputExceededException");
      return hb.store.updateAgent(agent, ...rest);
    };
    const deps = { ...hb.deps, store: flaky };
    hb.clock.now += MINUTE;
    const first = await startPoll(deps, hb.clock.now);
    expect(first.first?.result.write_failures).toBe(1);
    expect((await hb.takeAlerts()).map((a) => [a.kind, a.count])).toEqual([["newly_seen", 2]]);
    expect((await hb.store.getAgent(refused, newFleetCalls()))?.status).toBe("pending");
    hb.clock.now += MINUTE;
    await startPoll(deps, hb.clock.now);
    const second = await hb.takeAlerts();
    expect(second.map((a) => [a.kind, a.sample.map((s) => s.agent_id)])).toEqual([["newly_seen", [refused]]]);
  });

  it("polls a redelivered schedule tick once", async () => {
    const hb = await testHeartbeat();
    const { ids } = await addSimAgents(info, 2);
    await register(hb, ids);
    hb.clock.now += MINUTE;
    const first = await startPoll(hb.deps, hb.clock.now);
    const again = await startPoll(hb.deps, hb.clock.now);
    expect(first.duplicate).toBe(false);
    expect(again.duplicate).toBe(true);
    expect(kinds(await hb.takeAlerts())).toEqual(["newly_seen"]);
  });
});
