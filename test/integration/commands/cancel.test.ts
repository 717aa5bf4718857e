import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { cancelCommand, dispatchCommand, getCommandPage } from "../../../lib/commands/api.ts";
import { tickJobHandler } from "../../../lib/commands/retry.ts";
import type { CommandView } from "../../../lib/commands/schemas.ts";
import { advanceCommand } from "../../../lib/commands/send.ts";
import { COMMAND_TICK_JOB, type CommandSettings } from "../../../lib/commands/settings.ts";
import type { CommandStore } from "../../../lib/commands/store.ts";
import type { GseClient } from "../../../lib/gse/client.ts";
import { sqsRecord } from "../../helpers/events.ts";
import { addSimAgents } from "../../helpers/heartbeat.ts";
import { commandTestTable, TEST_COMMAND_SETTINGS, type CommandEngine } from "../../helpers/command-engine.ts";
import { simulatorControl, useStack } from "../../helpers/stack.ts";

const { info } = useStack();
const run = randomUUID().slice(0, 8);
const SETTINGS: CommandSettings = { ...TEST_COMMAND_SETTINGS, gseConcurrency: 1 };
const { store, engine } = commandTestTable("cmd-cancel", SETTINGS);
type Engine = CommandEngine;

/** 50 agents of this file's own, silent: five batches of 10, one at a time. */
async function dispatched(e: Engine, label: string): Promise<{ id: string; ids: string[] }> {
  const { ids } = await addSimAgents(info, 50);
  await simulatorControl(info, "POST", "agents/silent", { ids, silent: true });
  const id = `test.cmd-cancel.${label}.${run}.${randomUUID().slice(0, 8)}`;
  const answer = await dispatchCommand(e.deps, { message_id: id, agent_id_list: ids, content: "upgrade", max_concurrency: 10 }, "tester");
  expect(answer.command.batches).toMatchObject({ total: 5, sent: 1 });
  return { id, ids };
}

async function deliveredTo(id: string): Promise<string[]> {
  const res = (await simulatorControl(info, "GET", `deliveries?message_id=${encodeURIComponent(id)}`)) as { agents: Record<string, number> };
  return Object.keys(res.agents).sort();
}

/** The command as GET /v1/commands/{id} shows it, with the told outcome of every agent. */
async function shown(e: Engine, id: string): Promise<{ command: CommandView; outcomes: Record<string, number> }> {
  const page = await getCommandPage(e.deps, id, { limit: 1000 });
  const outcomes: Record<string, number> = {};
  for (const a of page.agents) outcomes[a.outcome] = (outcomes[a.outcome] ?? 0) + 1;
  return { command: page.command, outcomes };
}

/** The counts add up to the targets, and nothing is left PENDING or RETRYING. */
function expectTruthful(view: CommandView): void {
  expect(Object.values(view.counts).reduce((a, b) => a + b, 0)).toBe(view.targets);
  expect(view.counts).toMatchObject({ PENDING: 0, RETRYING: 0 });
}

/** Batch 1 as a sender holds it: claimed under a lease from now, its agents written. */
async function claimBatchOne(e: Engine, id: string): Promise<string[]> {
  const command = await store.getCommand(id);
  const batch = (await store.batches(id, command?.body_hash ?? "", true)).find((b) => b.index === 1);
  if (!command || !batch) throw new Error("batch 1 not stored");
  const claimed = await store.claimBatch(
    { messageId: id, sk: batch.sk, claim: "a sender", state: batch.state, size: batch.size },
    { now: e.clock.now, leaseMs: SETTINGS.leaseMs, maxConcurrency: command.max_concurrency },
  );
  expect(claimed).toMatchObject({ state: "SENDING" });
  const agentIds = batch.agent_ids ?? [];
  await store.prewriteAgents({ command, batch: 1, agentIds, now: e.clock.now, expiresAt: command.expires_at, firstSend: true });
  return agentIds;
}

describe("cancelling a command with batches not all sent", () => {
  it("ends the agents of batches never sent SKIPPED and counts 10 SENT + 40 SKIPPED of 50, also for a batch whose sender died (lease run out)", async () => {
    const e = engine();
    const { id } = await dispatched(e, "dead-sender");
    await claimBatchOne(e, id);
    e.clock.now += SETTINGS.leaseMs + 1;
    const cancelled = await cancelCommand(e.deps, id, "operator");
    expect(cancelled).toMatchObject({ status: "CANCELLED", batches: { total: 5, sent: 1 } });
    expect(cancelled.counts).toMatchObject({ SENT: 10, SKIPPED: 40 });
    expectTruthful(cancelled);
    const { command, outcomes } = await shown(e, id);
    expect(command.counts).toEqual(cancelled.counts);
    expect(outcomes).toEqual({ SENT: 10, SKIPPED: 10 });
  });

  it("never sends a batch claimed before the cancel whose GSE call had not started: SKIPPED, not delivered", async () => {
    const e = engine();
    const { id } = await dispatched(e, "claimed");
    let batchOne: readonly string[] = [];
    // The cancel comes between the batch's claim and its GSE call.
    const cancelling: CommandStore = Object.create(store, {
      claimBatch: {
        value: async (...args: Parameters<CommandStore["claimBatch"]>) => {
          const claimed = await store.claimBatch(...args);
          if (typeof claimed === "string" || batchOne.length > 0) return claimed;
          batchOne = claimed.agent_ids ?? [];
          await cancelCommand(e.deps, id, "operator");
          return claimed;
        },
      },
    });
    const sent = await advanceCommand({ ...e.deps, store: cancelling }, id, SETTINGS.sendBudgetMs);
    expect(sent.command.status).toBe("CANCELLED");
    expect(batchOne).toHaveLength(10);
    expect((await deliveredTo(id)).filter((a) => batchOne.includes(a))).toEqual([]);
    const { command } = await shown(e, id);
    expect(command.counts).toMatchObject({ SENT: 10, SKIPPED: 40 });
    expect(command.batches.sent).toBe(1);
    expectTruthful(command);
  });

  it("counts a batch GSE was sending when the cancel came as SENT once its sender is done: 20 SENT + 30 SKIPPED, not 10 PENDING", async () => {
    const e = engine();
    const { id } = await dispatched(e, "in-flight");
    // The cancel comes while GSE has the batch: after the last check, before the answer.
    const call: GseClient["call"] = async (operation, body) => {
      await cancelCommand(e.deps, id, "operator");
      return e.deps.gse.call(operation, body);
    };
    const inFlight = Object.create(e.deps.gse, { call: { value: call } }) as GseClient;
    await advanceCommand({ ...e.deps, gse: inFlight }, id, SETTINGS.sendBudgetMs, { maxBatches: 2 });
    expect(await deliveredTo(id)).toHaveLength(20);
    const { command, outcomes } = await shown(e, id);
    expect(command).toMatchObject({ status: "CANCELLED", batches: { sent: 2 }, counts: { SENT: 20, SKIPPED: 30 } });
    expect(outcomes).toEqual({ SENT: 20 });
    expectTruthful(command);
  });

  it("leaves a tick for a batch still out at the cancel: its sender dies, and after the lease the batch is SKIPPED and counted again", async () => {
    const e = engine();
    const { id } = await dispatched(e, "dies-after");
    await claimBatchOne(e, id);
    const cancelled = await cancelCommand(e.deps, id, "operator");
    // At the cancel, batch 1 is in its sender's hands: in flight, not yet SKIPPED.
    expect(cancelled.counts).toMatchObject({ SENT: 10, PENDING: 10, SKIPPED: 30 });
    const tick = e.jobs.find((j) => j.type === COMMAND_TICK_JOB && j.message_id === id && j.delaySeconds > SETTINGS.leaseMs / 1000);
    expect(tick).toBeDefined();
    e.clock.now += (tick?.delaySeconds ?? 0) * 1000;
    const body = { type: COMMAND_TICK_JOB, message_id: id };
    await tickJobHandler(e.deps, SETTINGS.sendBudgetMs)(body, sqsRecord(JSON.stringify(body)));
    const { command } = await shown(e, id);
    expect(command.counts).toMatchObject({ SENT: 10, SKIPPED: 40 });
    expectTruthful(command);
  });
});
