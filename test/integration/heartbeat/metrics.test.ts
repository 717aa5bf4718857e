/**
 * The heartbeat's metrics against the shared stack's real DynamoDB Local, SNS/SQS emulator and GSE
 * simulator (test/helpers/heartbeat.ts: a fleet table and alerts topic of the test's own), with
 * the recorder of test/helpers/emf.ts: HeartbeatTransitions counts the agents a poll changed, by
 * transition kind, and HeartbeatPollDuration is written once per poll, by its last shard.
 */
import { describe, expect, it } from "vitest";
import { registerAgents } from "../../../lib/fleet/service.ts";
import { newFleetCalls } from "../../../lib/fleet/store.ts";
import { finishPoll } from "../../../lib/heartbeat/finish.ts";
import { runShard, startPoll } from "../../../lib/heartbeat/poll.ts";
import { captureMetrics, type CapturedMetrics } from "../../helpers/emf.ts";
import { addSimAgents, setSimStatus, testHeartbeat, type TestHeartbeat } from "../../helpers/heartbeat.ts";
import { useStack } from "../../helpers/stack.ts";

const { info } = useStack();
const MINUTE = 60_000;

/** One scheduled poll at the next minute (every queued shard run), recorded by a recorder of its own. */
async function poll(hb: TestHeartbeat): Promise<CapturedMetrics> {
  const captured = captureMetrics();
  const deps = { ...hb.deps, metrics: captured.metrics };
  hb.clock.now += MINUTE;
  await startPoll(deps, hb.clock.now);
  while (hb.queued.length > 0) await runShard(deps, hb.queued.shift()!);
  return captured;
}

async function register(hb: TestHeartbeat, ids: readonly string[]): Promise<void> {
  await registerAgents({ store: hb.store, now: () => hb.clock.now, settings: { evictAfterSeconds: 30 * 86_400 } }, ids, "api");
}

/** Every HeartbeatTransitions point a poll recorded, as [kind, value]. */
function transitionsOf(captured: CapturedMetrics): [string, number][] {
  captured.metrics.flush();
  return captured.documents.flatMap((document) => {
    const fields = document as Record<string, unknown>;
    const value = fields.HeartbeatTransitions;
    if (value === undefined) return [];
    return (Array.isArray(value) ? value : [value]).map((v): [string, number] => [String(fields.kind), v as number]);
  });
}

describe("heartbeat metrics", () => {
  it("counts agents going from alive to lost under kind lost, and back under kind recovered, one duration per poll", async () => {
    const hb = await testHeartbeat();
    const { ids } = await addSimAgents(info, 3);
    const down = ids.slice(0, 2);
    await register(hb, ids);

    const first = await poll(hb);
    expect(transitionsOf(first)).toEqual([["newly_seen", 3]]);
    expect(first.values("HeartbeatPollDuration")).toHaveLength(1);

    await setSimStatus(info, down, 3);
    // Down for fewer than K polls is no transition yet.
    for (let i = 1; i < hb.deps.settings.lostAfterPolls; i++) expect(transitionsOf(await poll(hb))).toEqual([]);
    const lost = await poll(hb);
    expect(transitionsOf(lost)).toEqual([["lost", 2]]);
    expect(lost.values("HeartbeatTransitions", { kind: "lost", service: "gse-control" })).toEqual([2]);
    expect(lost.values("HeartbeatPollDuration")).toHaveLength(1);
    // What the metric counted is what the table holds.
    for (const id of down) expect((await hb.store.getAgent(id, newFleetCalls()))?.status).toBe("lost");

    await setSimStatus(info, down, 2);
    const recovered = await poll(hb);
    expect(transitionsOf(recovered)).toEqual([["recovered", 2]]);
  });

  it("records no transition for a poll in which no agent changed, and still its one duration", async () => {
    const hb = await testHeartbeat();
    const { ids } = await addSimAgents(info, 4);
    await register(hb, ids);
    await poll(hb);
    const quiet = await poll(hb);
    expect(quiet.values("HeartbeatTransitions")).toEqual([]);
    expect(quiet.values("HeartbeatPollDuration")).toEqual([0]);
  });

  it("records a poll fanned out over three shards once, by its last shard, from the poll's start to that shard's end", async () => {
    const hb = await testHeartbeat();
    // Ids GSE answers -2 (not found): each becomes unknown, one transition per agent whichever shard polls it.
    const { ids } = await addSimAgents(info, 30, { status_code: -2 });
    await register(hb, ids);
    // The last poll's cost says this fleet needs 3 shards.
    await hb.store.putMeta("planner", { fleet_size: 30, ms_per_agent: (3 * hb.deps.settings.budgetMs * 0.5) / 30 }, newFleetCalls());
    const captured = captureMetrics();
    const deps = { ...hb.deps, metrics: captured.metrics };
    hb.clock.now += MINUTE;
    const started = await startPoll(deps, hb.clock.now);
    expect(started.shards).toBe(3);
    expect(captured.values("HeartbeatPollDuration")).toEqual([]);
    // The queued shards run 4 s and 7 s after the poll started (the test's clock; nothing sleeps).
    hb.clock.now += 4_000;
    expect((await runShard(deps, hb.queued.shift()!)).finished).toBe(false);
    expect(captured.values("HeartbeatPollDuration")).toEqual([]);
    hb.clock.now += 3_000;
    expect((await runShard(deps, hb.queued.shift()!)).finished).toBe(true);
    expect(captured.values("HeartbeatPollDuration")).toEqual([7_000]);
    // Each shard sends its own count; together they are the fleet's.
    const unknown = captured.values("HeartbeatTransitions", { kind: "unknown" });
    expect(unknown.reduce((a, b) => a + b, 0)).toBe(30);
    expect(transitionsOf(captured).every(([kind]) => kind === "unknown")).toBe(true);
  });

  it("measures a poll its last shard finished twice (a redelivery that saw it unfinished) once", async () => {
    const hb = await testHeartbeat();
    const { ids } = await addSimAgents(info, 2);
    await register(hb, ids);
    const captured = captureMetrics();
    const deps = { ...hb.deps, metrics: captured.metrics };
    hb.clock.now += MINUTE;
    const started = await startPoll(deps, hb.clock.now);
    expect(started.first?.finished).toBe(true);
    hb.clock.now += 2_000;
    await finishPoll(deps, started.pollId);
    expect(captured.values("HeartbeatPollDuration")).toEqual([0]);
  });

  it("records nothing for a redelivered schedule tick of a poll already started", async () => {
    const hb = await testHeartbeat();
    const { ids } = await addSimAgents(info, 2);
    await register(hb, ids);
    hb.clock.now += MINUTE;
    const first = captureMetrics();
    await startPoll({ ...hb.deps, metrics: first.metrics }, hb.clock.now);
    expect(first.values("HeartbeatTransitions", { kind: "newly_seen" })).toEqual([2]);
    expect(first.values("HeartbeatPollDuration")).toEqual([0]);
    const again = captureMetrics();
    expect((await startPoll({ ...hb.deps, metrics: again.metrics }, hb.clock.now)).duplicate).toBe(true);
    expect(again.values("HeartbeatPollDuration")).toEqual([]);
    expect(again.documents).toEqual([]);
  });
});
