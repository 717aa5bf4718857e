/**
 * The heartbeat poll against the shared stack's real DynamoDB Local, SNS/SQS emulator and GSE
 * simulator, on a clock of the test's own (each poll is "one minute later"); each test has its
 * own fleet table and alerts topic (test/helpers/heartbeat.ts) and its own simulator agents.
 */
import { describe, expect, it } from "vitest";
import { listAgents, registerAgents } from "../../../lib/fleet/service.ts";
import { runShard, startPoll, type StartResult } from "../../../lib/heartbeat/poll.ts";
import { newFleetCalls } from "../../../lib/fleet/store.ts";
import { severityOf } from "../../../lib/core/alert-catalog.ts";
import { alertTypeOf, heartbeatAlertSchema } from "../../../lib/heartbeat/alerts.ts";
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

/** The fleet view of this test's table, as GET /v1/fleet/agents answers it. */
async function view(hb: TestHeartbeat, query: { class?: "alive" | "degraded" | "transitional" | "gone" | "unknown" } = {}) {
  return (await listAgents({ store: hb.store, now: () => hb.clock.now, settings: { evictAfterSeconds: 30 * 86_400 } }, { limit: 1000, ...query })).agents;
}

describe("heartbeat poll", () => {
  it("raises one lost alert naming the 5 agents that went down after K polls, and one recovered alert when they are back", async () => {
    const hb = await testHeartbeat();
    const { ids } = await addSimAgents(info, 8);
    const down = ids.slice(0, 5);
    await register(hb, ids);

    await poll(hb);
    // Agents seen for the first time are news (their history has it), not an alert.
    expect(await hb.takeAlerts()).toEqual([]);
    expect(await hb.store.getMeta("summary", newFleetCalls())).toMatchObject({ agents: 8, by_status: { alive: 8 }, by_class: { alive: 8 } });

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
    expect(lost[0]?.sample.every((s) => s.status_code === 3 && s.status_class === "degraded")).toBe(true);
    expect(lost[0]).toMatchObject({ type: "heartbeat.lost", severity: "warning" });
    await poll(hb);
    expect(await hb.takeAlerts()).toEqual([]);

    await setSimStatus(info, down, 2);
    await poll(hb);
    const recovered = await hb.takeAlerts();
    expect(kinds(recovered)).toEqual(["recovered"]);
    // The all-clear of the lost alert.
    expect(recovered[0]).toMatchObject({ type: "heartbeat.recovered", severity: "info" });
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
    // (Before status classes this also listed the known agent's newly_seen: news is no longer published.)
    expect(kinds(alerts)).toEqual(["unknown"]);
    expect(alerts[0]?.sample.every((s) => s.status_code === null && s.status_class === "unknown")).toBe(true);
    expect(
      alerts
        .find((a) => a.kind === "unknown")
        ?.sample.map((s) => s.agent_id)
        .sort(),
    ).toEqual([...wrong].sort());
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
    expect(quiet.first?.result.transitions.lost ?? 0).toBe(0);
    // Meta only (polled marks, shard result, run bookkeeping, summary): no agent item was written.
    const after = await hb.store.agentsOf([...Array(64).keys()], newFleetCalls());
    expect(after.map((a) => a.rev)).toEqual(revs);
    const { listAgents } = await import("../../../lib/fleet/service.ts");
    const page = await listAgents({ store: hb.store, now: () => hb.clock.now, settings: { evictAfterSeconds: 1 } }, { limit: 100 });
    expect(page.agents.map((a) => a.last_seen)).toEqual(ids.map(() => new Date(hb.clock.now).toISOString()));
  });

  it("records a version change in the agent's history without publishing it, and counts versions below the minimum as outdated", async () => {
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
    // A version change is news: the agent's history has it, the alerts topic does not.
    expect(await hb.takeAlerts()).toEqual([]);
    const history = await hb.store.history(upgraded, { limit: 10 }, newFleetCalls());
    expect(history.transitions[0]).toMatchObject({
      kind: "version_changed",
      version: "2.1.5",
      previous_version: "2.0.9",
      status_code: 2,
      status_class: "alive",
    });
    const summary = await hb.store.getMeta("summary", newFleetCalls());
    expect(summary).toMatchObject({ agents: 3, outdated: 2, by_status: { alive: 3 } });
    expect(summary?.by_version).toEqual([
      { version: "2.0.9", count: 2, outdated: true },
      { version: "2.1.5", count: 1, outdated: false },
    ]);
  });

  it("fans a fleet that does not fit the budget out through the queue, and still raises one alert per kind", async () => {
    const hb = await testHeartbeat();
    // Ids GSE answers -2 (not found): their unknown alert is what the shards aggregate (newly_seen, which did before, is not published).
    const { ids } = await addSimAgents(info, 40, { status_code: -2 });
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
    expect(kinds(alerts)).toEqual(["unknown"]);
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
    // (Asserted by their newly_seen alert before news stopped being published.)
    expect(await hb.store.getMeta("summary", newFleetCalls())).toMatchObject({ poll_id: started.pollId, agents: 3, by_status: { alive: 3 } });
  });

  it("resumes a poll whose first attempt failed when the scheduled run is retried, and finishes it once", async () => {
    const hb = await testHeartbeat();
    // Not found (-2): an unknown alert tells whether the poll finished, and how often.
    const { ids } = await addSimAgents(info, 2, { status_code: -2 });
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
    expect(kinds(await hb.takeAlerts())).toEqual(["unknown"]);
    expect((await startPoll(deps, hb.clock.now - MINUTE)).duplicate).toBe(true);
  });

  it("leaves an agent whose write DynamoDB refuses as it was, and records its change with the next poll", async () => {
    const hb = await testHeartbeat();
    const { ids } = await addSimAgents(info, 3, { status_code: -2 });
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
    expect((await hb.takeAlerts()).map((a) => [a.kind, a.count])).toEqual([["unknown", 2]]);
    expect((await hb.store.getAgent(refused, newFleetCalls()))?.status).toBe("pending");
    hb.clock.now += MINUTE;
    await startPoll(deps, hb.clock.now);
    const second = await hb.takeAlerts();
    expect(second.map((a) => [a.kind, a.sample.map((s) => s.agent_id)])).toEqual([["unknown", [refused]]]);
  });

  it("polls a redelivered schedule tick once", async () => {
    const hb = await testHeartbeat();
    const { ids } = await addSimAgents(info, 2, { status_code: -2 });
    await register(hb, ids);
    hb.clock.now += MINUTE;
    const first = await startPoll(hb.deps, hb.clock.now);
    const again = await startPoll(hb.deps, hb.clock.now);
    expect(first.duplicate).toBe(false);
    expect(again.duplicate).toBe(true);
    expect(kinds(await hb.takeAlerts())).toEqual(["unknown"]);
  });
});

describe("heartbeat poll by status class", () => {
  it("raises no lost alert for agents GSE answers -1, 1, 5 or 6 for more than K polls, and shows their code and class", async () => {
    const hb = await testHeartbeat();
    const { ids } = await addSimAgents(info, 4);
    await register(hb, ids);
    await poll(hb);
    await hb.takeAlerts();
    const codes = [-1, 1, 5, 6];
    for (const [i, code] of codes.entries()) await setSimStatus(info, [ids[i]!], code);
    for (let i = 0; i < 2 * hb.deps.settings.lostAfterPolls; i++) await poll(hb);
    // Neither lost (none is down) nor unknown (-1 is GSE's own failed query, not an id it does not know).
    expect(await hb.takeMessages()).toEqual([]);
    const agents = new Map((await view(hb)).map((a) => [a.agent_id, a]));
    expect(codes.map((_code, i) => agents.get(ids[i]!))).toEqual([
      expect.objectContaining({ status: "alive", status_code: -1, status_class: "unknown" }),
      expect.objectContaining({ status: "alive", status_code: 1, status_class: "transitional" }),
      expect.objectContaining({ status: "alive", status_code: 5, status_class: "transitional" }),
      expect.objectContaining({ status: "alive", status_code: 6, status_class: "transitional" }),
    ]);
  });

  it("raises exactly one stuck alert, naming the state, for agents upgrading longer than the transitional grace", async () => {
    const hb = await testHeartbeat();
    const grace = hb.deps.settings.transitionalGraceMs;
    const { ids } = await addSimAgents(info, 3);
    const control = await addSimAgents(info, 1);
    await register(hb, [...ids, ...control.ids]);
    await poll(hb);
    await setSimStatus(info, ids, 5);
    await poll(hb);
    const since = new Date(hb.clock.now).toISOString();
    await poll(hb);
    expect(await hb.takeAlerts()).toEqual([]);
    // The grace passes (the clock jumps; nothing sleeps): the next poll finds them still upgrading.
    hb.clock.now += grace;
    await poll(hb);
    const messages = await hb.takeMessages();
    expect(messages.map((m) => m.body.kind)).toEqual(["stuck"]);
    const stuck = heartbeatAlertSchema.parse(messages[0]?.body);
    expect(stuck).toMatchObject({ type: "heartbeat.stuck", severity: "warning", count: 3, truncated: false });
    expect(stuck.detail).toContain("5 upgrading ×3");
    expect(stuck.sample.map((s) => s.agent_id).sort()).toEqual([...ids].sort());
    for (const s of stuck.sample)
      expect(s).toMatchObject({ status: "alive", status_code: 5, status_class: "transitional", status_name: "upgrading", transitional_since: since });
    expect(messages[0]?.attributes).toMatchObject({ type: "heartbeat.stuck", severity: "warning", kind: "stuck", source: "gse-control/heartbeat" });
    expect(messages[0]?.subject).toBe("gse-control: 3 agents stuck in a transitional state");
    // Still upgrading at the next polls: nothing more.
    await poll(hb);
    await poll(hb);
    expect(await hb.takeAlerts()).toEqual([]);
    const history = await hb.store.history(ids[0]!, { limit: 10 }, newFleetCalls());
    expect(history.transitions[0]).toMatchObject({
      kind: "stuck",
      from: "alive",
      to: "alive",
      status_code: 5,
      status_name: "upgrading",
      status_class: "transitional",
    });

    // Upgraded at last: the stay ends, and the next one has its grace again.
    await setSimStatus(info, ids, 2);
    await poll(hb);
    const upgraded = (await view(hb)).find((a) => a.agent_id === ids[0]);
    expect(upgraded).toMatchObject({ status: "alive", status_class: "alive", status_code: 2 });
    expect(upgraded?.transitional_since).toBeUndefined();
    expect(await hb.takeAlerts()).toEqual([]);
  });

  it("counts agents degraded for K polls after alive lost, with their code and class in the alert", async () => {
    const hb = await testHeartbeat();
    const { ids } = await addSimAgents(info, 2);
    await register(hb, ids);
    await poll(hb);
    await setSimStatus(info, ids, 5);
    await poll(hb);
    await setSimStatus(info, ids, 3);
    for (let i = 0; i < hb.deps.settings.lostAfterPolls; i++) await poll(hb);
    const alerts = await hb.takeAlerts();
    expect(kinds(alerts)).toEqual(["lost"]);
    expect(alerts[0]?.sample.map((s) => [s.status_code, s.status_class, s.status_name])).toEqual([
      [3, "degraded", "lossy"],
      [3, "degraded", "lossy"],
    ]);
    expect(await view(hb, { class: "degraded" })).toEqual([expect.objectContaining({ status: "lost" }), expect.objectContaining({ status: "lost" })]);
  });

  it("publishes every alert with its catalogue type and severity, in the body and as message attributes, and no news", async () => {
    const hb = await testHeartbeat({ minVersion: "2.1.0" });
    const { ids, prefix } = await addSimAgents(info, 3, { version: "2.0.9" });
    const wrong = "99:198.51.100.9";
    await register(hb, [...ids, wrong]);
    await poll(hb); // newly seen ×3, unknown ×1
    const [upgraded, falling] = [ids[0]!, ids[1]!];
    await simulatorControl(info, "POST", "agents/remove", { ids: [upgraded] });
    await simulatorControl(info, "POST", "agents", {
      agents: [{ ip: upgraded.split(":")[1]!, bk_cloud_id: 0, version: "2.1.5", status_code: 2, churn: false }],
    });
    await poll(hb); // version changed
    await setSimStatus(info, [falling], 7);
    for (let i = 0; i < hb.deps.settings.lostAfterPolls; i++) await poll(hb); // lost
    await setSimStatus(info, [falling], 2);
    await poll(hb); // recovered
    await withFaults(info, [{ kind: "http_error", status: 502, operation: "list_agent_state", match: prefix }], () => poll(hb)); // GSE unreachable
    await poll(hb); // reachable again
    const messages = await hb.takeMessages();
    expect(messages.map((m) => m.body.kind).sort()).toEqual(["gse_reachable", "gse_unreachable", "lost", "recovered", "unknown"]);
    for (const m of messages) {
      const alert = heartbeatAlertSchema.parse(m.body);
      expect(alert.type).toBe(`heartbeat.${alert.kind}`);
      expect(alert.severity).toBe(severityOf(alertTypeOf(alert.kind)));
      // alert_id: the same on a copy the outbox sweep may send after a crash, so a subscriber can drop it.
      expect(alert.alert_id).toMatch(new RegExp(`^heartbeat\\.${alert.kind}#`));
      expect(m.attributes).toEqual({
        type: alert.type,
        severity: alert.severity,
        object: alert.object,
        kind: alert.kind,
        source: "gse-control/heartbeat",
        alert_id: alert.alert_id,
      });
    }
    expect(Object.fromEntries(messages.map((m) => [m.body.type, m.body.severity]))).toEqual({
      "heartbeat.unknown": "warning",
      "heartbeat.lost": "warning",
      "heartbeat.recovered": "info",
      "heartbeat.gse_unreachable": "critical",
      "heartbeat.gse_reachable": "info",
    });
    // The news is in the agents' history all the same.
    const history = await hb.store.history(upgraded, { limit: 10 }, newFleetCalls());
    expect(history.transitions.map((t) => t.kind).sort()).toEqual(["newly_seen", "version_changed"]);
  });
});
