import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { dispatchCommand, getCommandPage } from "../../../lib/commands/api.ts";
import { recountInFlight } from "../../../lib/commands/in-flight.ts";
import { countOutcomes } from "../../../lib/commands/outcomes.ts";
import { countReplies } from "../../../lib/commands/reply-count.ts";
import { receiveCallback } from "../../../lib/commands/reply.ts";
import { tickJobHandler } from "../../../lib/commands/retry.ts";
import type { DispatchCommandRequest } from "../../../lib/commands/schemas.ts";
import { COMMAND_TICK_JOB, type CommandSettings } from "../../../lib/commands/settings.ts";
import type { CommandStore } from "../../../lib/commands/store.ts";
import type { CommandItem } from "../../../lib/commands/store/items.ts";
import { batchCounts } from "../../../lib/commands/views.ts";
import { sqsRecord } from "../../helpers/events.ts";
import { addSimAgents } from "../../helpers/heartbeat.ts";
import { commandTestTable, TEST_COMMAND_SETTINGS, type CommandEngine } from "../../helpers/command-engine.ts";
import { simulatorControl, useStack } from "../../helpers/stack.ts";

const { info } = useStack();
const run = randomUUID().slice(0, 8);
const SETTINGS: CommandSettings = TEST_COMMAND_SETTINGS;
const TIMEOUT_SECONDS = 30;
const { store, engine, storedAgentItems } = commandTestTable("cmd-replies", SETTINGS);
type Engine = CommandEngine;

const tick = async (e: Engine, id: string): Promise<void> => {
  const body = { type: COMMAND_TICK_JOB, message_id: id };
  await tickJobHandler(e.deps, SETTINGS.sendBudgetMs)(body, sqsRecord(JSON.stringify(body)));
};

const reply = (e: Engine, id: string, agentId: string, content = '{"code":0}') =>
  receiveCallback({ store, now: () => e.clock.now, retentionMs: SETTINGS.retentionMs }, { message_id: id, bk_agent_id: agentId, content });

const agentItems = (id: string) => storedAgentItems<{ agent_id: string; outcome: string; by_batch?: boolean }>(id);

/** How many times GSE delivered the command to each agent. */
async function deliveries(id: string): Promise<Record<string, number>> {
  return ((await simulatorControl(info, "GET", `deliveries?message_id=${encodeURIComponent(id)}`)) as { agents: Record<string, number> }).agents;
}

async function command(id: string): Promise<CommandItem> {
  const found = await store.getCommand(id);
  if (!found) throw new Error(`command ${id} not stored`);
  return found;
}

/** `n` silent simulator agents, and a reply-tracked command to them, sent as far as its window lets it (the request, then a tick). */
async function trackedCommand(e: Engine, label: string, n: number, extra: Partial<DispatchCommandRequest> = {}): Promise<{ id: string; ids: string[] }> {
  const { ids } = await addSimAgents(info, n);
  await simulatorControl(info, "POST", "agents/silent", { ids, silent: true });
  const id = `test.cmd-replies.${label}.${run}.${randomUUID().slice(0, 8)}`;
  await dispatchCommand(e.deps, { message_id: id, agent_id_list: ids, content: "upgrade", reply_timeout_seconds: TIMEOUT_SECONDS, ...extra }, "tester");
  await tick(e, id);
  return { id, ids };
}

describe("a command awaiting replies counts them per batch", () => {
  it("writes no agent item before a reply, and one item, created by the reply, after it", async () => {
    const e = engine();
    const { id, ids } = await trackedCommand(e, "items", 20);
    expect(await command(id)).toMatchObject({ status: "RUNNING", batches_done: 2, in_flight: 20, sparse_agents: true });
    expect(await agentItems(id)).toEqual([]);
    expect(await reply(e, id, ids[0] as string)).toBe("replied");
    expect(await reply(e, id, ids[0] as string)).toBe("duplicate");
    expect(await agentItems(id)).toMatchObject([{ agent_id: ids[0], outcome: "REPLIED", by_batch: true }]);
    // The reply itself moves no counter: its batch's count at the next tick does.
    expect(await command(id)).toMatchObject({ in_flight: 20, errors: 0 });
    const page = await getCommandPage(e.deps, id, { limit: 100 });
    expect(page.agents.filter((a) => a.outcome === "SENT")).toHaveLength(19);
    expect(page.agents.find((a) => a.bk_agent_id === ids[0])).toMatchObject({ outcome: "REPLIED" });
    await tick(e, id);
    expect(await command(id)).toMatchObject({ status: "RUNNING", in_flight: 19, errors: 0 });
  });

  it("keeps max_concurrency as the bound of agents in flight while replies arrive: a batch goes out only once replies counted make room", async () => {
    const e = engine();
    const { id, ids } = await trackedCommand(e, "window", 30, { max_concurrency: 10 });
    const [first, second, third] = [ids.slice(0, 10), ids.slice(10, 20), ids.slice(20)];
    expect(Object.keys(await deliveries(id)).sort()).toEqual([...first].sort());
    // Half of the first batch replies: no room for a batch of 10 yet.
    for (const agent of first.slice(0, 5)) await reply(e, id, agent);
    await tick(e, id);
    expect(await command(id)).toMatchObject({ batches_done: 1, in_flight: 5 });
    expect(Object.keys(await deliveries(id))).toHaveLength(10);
    for (const agent of first.slice(5)) await reply(e, id, agent);
    await tick(e, id);
    expect(await command(id)).toMatchObject({ batches_done: 2, in_flight: 10 });
    expect(Object.keys(await deliveries(id)).sort()).toEqual([...first, ...second].sort());
    for (const agent of second) await reply(e, id, agent);
    await tick(e, id);
    expect(Object.keys(await deliveries(id)).sort()).toEqual([...ids].sort());
    for (const agent of third) await reply(e, id, agent);
    await tick(e, id);
    expect(await command(id)).toMatchObject({ status: "SUCCEEDED", in_flight: 0, errors: 0, counts: { REPLIED: 30 } });
    // Every agent delivered once: never more than the window's 10 out and unanswered.
    expect(Object.values(await deliveries(id))).toEqual(ids.map(() => 1));
  });

  it("asks for the tick that counts a reply though the window shows no room yet, once a second at most, a second late so it counts the whole burst", async () => {
    const e = engine();
    const { id, ids } = await trackedCommand(e, "wake", 20, { max_concurrency: 10 });
    const woken: [string, number | undefined][] = [];
    const wakingReply = (agentId: string) =>
      receiveCallback(
        {
          store,
          now: () => e.clock.now,
          retentionMs: SETTINGS.retentionMs,
          wake: async (messageId, delaySeconds) => void woken.push([messageId, delaySeconds]),
        },
        { message_id: id, bk_agent_id: agentId, content: '{"code":0}' },
      );
    expect(await command(id)).toMatchObject({ in_flight: 10 });
    await wakingReply(ids[0] as string);
    await wakingReply(ids[1] as string);
    // The burst's first reply asks for the tick; it runs a second later, when the burst's replies are in.
    expect(woken).toEqual([[id, 1]]);
    e.clock.now += 1_001;
    await wakingReply(ids[2] as string);
    expect(woken).toEqual([
      [id, 1],
      [id, 1],
    ]);
  });

  it("ABORTS when failing replies pass max_errors: batches not sent are never sent", async () => {
    const e = engine();
    const { id, ids } = await trackedCommand(e, "errors", 30, { max_concurrency: 10, max_errors: 2 });
    for (const agent of ids.slice(0, 3)) expect(await reply(e, id, agent, '{"code":7,"message":"no disk"}')).toBe("replied");
    for (const agent of ids.slice(3, 10)) await reply(e, id, agent);
    await tick(e, id);
    const aborted = await command(id);
    expect(aborted).toMatchObject({ status: "ABORTED", errors: 3, in_flight: 0 });
    expect(Object.keys(await deliveries(id))).toHaveLength(10);
    const page = await getCommandPage(e.deps, id, { limit: 100 });
    expect(
      page.agents
        .filter((a) => a.outcome === "FAILED")
        .map((a) => a.bk_agent_id)
        .sort(),
    ).toEqual(ids.slice(0, 3).sort());
    expect(page.agents.find((a) => a.bk_agent_id === ids[0])).toMatchObject({ code: 7, message: "no disk" });
    expect(aborted.counts).toMatchObject({ FAILED: 3, REPLIED: 7, SKIPPED: 20 });
  });

  it("times out a silent agent of a SENT batch at its deadline: TIMED_OUT, an error, out of the window, counted once", async () => {
    const e = engine();
    const { id, ids } = await trackedCommand(e, "timeout", 20);
    for (const agent of ids.slice(0, 15)) await reply(e, id, agent);
    await tick(e, id);
    expect(await command(id)).toMatchObject({ status: "RUNNING", in_flight: 5 });
    e.clock.now += TIMEOUT_SECONDS * 1000 + 1;
    await tick(e, id);
    await tick(e, id);
    expect(await command(id)).toMatchObject({ status: "PARTIAL", in_flight: 0, errors: 5, counts: { REPLIED: 15, TIMED_OUT: 5 } });
    const timedOut = (await agentItems(id)).filter((a) => a.outcome === "TIMED_OUT").map((a) => a.agent_id);
    expect(timedOut.sort()).toEqual(ids.slice(15).sort());
    // A reply after its deadline changes nothing.
    expect(await reply(e, id, ids[19] as string)).toBe("duplicate");
    expect(await command(id)).toMatchObject({ errors: 5, in_flight: 0 });
  });

  it("reads each open batch's agents once a tick, and counts a reply that came after that read at the next tick, never lost", async () => {
    const reads: string[][] = [];
    let late: ((agentIds: readonly string[]) => Promise<unknown>) | undefined;
    const watched = Object.create(store) as CommandStore;
    watched.agentsByIds = async (messageId, agentIds) => {
      const items = await store.agentsByIds(messageId, agentIds);
      reads.push([...agentIds]);
      // A reply lands after the tick's count read its batch, before that count is written or the tick settles.
      const reply = late;
      late = undefined;
      await reply?.(agentIds);
      return items;
    };
    const e = engine({ store: watched });
    const { id, ids } = await trackedCommand(e, "once", 20);
    for (const agent of ids.slice(0, 5)) await reply(e, id, agent);
    reads.length = 0;
    let lateAgent: string | undefined;
    late = async (agentIds) => {
      lateAgent = agentIds[agentIds.length - 1];
      expect(await reply(e, id, lateAgent as string)).toBe("replied");
    };
    await tick(e, id);
    expect(reads.flat().sort()).toEqual([...ids].sort());
    // The count this tick wrote did not see the late reply: the tick's settle left it to the next count.
    expect(await command(id)).toMatchObject({ status: "RUNNING", in_flight: 15 });
    expect(ids.slice(5)).toContain(lateAgent);
    await tick(e, id);
    expect(await command(id)).toMatchObject({ status: "RUNNING", in_flight: 14 });
    expect(await recountInFlight(e.deps, await command(id))).toBe(14);
  });

  it("counts a reply once whatever dies or races: a reply written and never counted, a count that died before its write, two counts at once", async () => {
    // A tick that dies between reading the agents and writing (a crash before countSettled): none
    // of its batches' counts is written (both batches are counted at once; a dead process writes neither).
    let dead = true;
    const crashing = Object.create(store) as CommandStore;
    crashing.countSettled = async (...args) => {
      if (dead) throw new Error("the tick died before its count was written");
      return store.countSettled(...args);
    };
    const e = engine({ store: crashing });
    const { id, ids } = await trackedCommand(e, "crash", 20);
    // Replies written; the process that wrote them died before asking for a tick (no wake).
    for (const agent of ids.slice(0, 12)) await reply(e, id, agent);
    await expect(tick(e, id)).rejects.toThrow(/died/);
    expect(await command(id)).toMatchObject({ in_flight: 20, errors: 0 });
    dead = false;
    // The queue runs the tick again, and two counts race: 12 replies leave the window once.
    await Promise.all([tick(e, id), countReplies(e.deps, await command(id), TIMEOUT_SECONDS * 1000, await store.batches(id, (await command(id)).body_hash))]);
    await tick(e, id);
    const counted = await command(id);
    expect(counted).toMatchObject({ status: "RUNNING", in_flight: 8, errors: 0 });
    // The sweep's recount agrees with the counter, counted or not.
    expect(await recountInFlight(e.deps, counted)).toBe(8);
    await reply(e, id, ids[12] as string);
    expect(await recountInFlight(e.deps, await command(id))).toBe(8);
    for (const agent of ids.slice(13)) await reply(e, id, agent);
    await tick(e, id);
    expect(await command(id)).toMatchObject({ status: "SUCCEEDED", in_flight: 0, errors: 0, counts: { REPLIED: 20 } });
  });

  it("counts a large command from its batches as its agents do: replies REPLIED, failing replies FAILED, timeouts TIMED_OUT, the silent rest SENT", async () => {
    // batchCounts is what a command over EXACT_COUNT_MAX_TARGETS shows while it runs; countOutcomes reads every agent.
    const e = engine();
    const { id, ids } = await trackedCommand(e, "quick-counts", 30, { max_concurrency: 10 });
    for (const agent of ids.slice(0, 6)) await reply(e, id, agent);
    for (const agent of ids.slice(6, 8)) await reply(e, id, agent, '{"code":7,"message":"no disk"}');
    // Past the first batch's deadline: its two silent agents time out, and the room they leave sends the second batch.
    e.clock.now += TIMEOUT_SECONDS * 1000 + 1;
    await tick(e, id);
    expect(await command(id)).toMatchObject({ batches_done: 2, in_flight: 10, errors: 4 });
    for (const agent of ids.slice(10, 14)) await reply(e, id, agent);
    await reply(e, id, ids[14] as string, '{"code":3}');
    await tick(e, id);
    const running = await command(id);
    expect(running).toMatchObject({ status: "RUNNING", batches_done: 2, in_flight: 5, errors: 5 });
    const exact = await countOutcomes(store, running);
    expect(exact).toMatchObject({ REPLIED: 10, FAILED: 3, TIMED_OUT: 2, SENT: 5, PENDING: 10, RETRYING: 0, SKIPPED: 0 });
    expect(await batchCounts(store, running)).toEqual(exact);
  });
});
