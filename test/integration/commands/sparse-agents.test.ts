import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { dispatchCommand, getCommandPage } from "../../../lib/commands/api.ts";
import { receiveCallback } from "../../../lib/commands/reply.ts";
import { tickJobHandler } from "../../../lib/commands/retry.ts";
import type { AgentResult } from "../../../lib/commands/schemas.ts";
import { COMMAND_TICK_JOB, type CommandSettings } from "../../../lib/commands/settings.ts";
import { sqsRecord } from "../../helpers/events.ts";
import { addSimAgents } from "../../helpers/heartbeat.ts";
import { commandTestTable, TEST_COMMAND_SETTINGS, type CommandEngine } from "../../helpers/command-engine.ts";
import { simulatorControl, useStack } from "../../helpers/stack.ts";

const { info } = useStack();
const run = randomUUID().slice(0, 8);
const SETTINGS: CommandSettings = TEST_COMMAND_SETTINGS;
const { store, engine, storedAgentItems } = commandTestTable("cmd-sparse", SETTINGS);
type Engine = CommandEngine;

/** Runs the tick jobs queued without delay, as the queue would, until none is left. */
async function runTicks(e: Engine): Promise<void> {
  for (let i = 0; i < e.jobs.length; i++) {
    const job = e.jobs[i];
    if (!job || job.type !== COMMAND_TICK_JOB || job.delaySeconds > 0) continue;
    const body = { type: job.type, message_id: job.message_id };
    await tickJobHandler(e.deps, SETTINGS.sendBudgetMs)(body, sqsRecord(JSON.stringify(body)));
  }
}

const agentItems = (id: string) => storedAgentItems<{ agent_id: string; outcome: string }>(id);

/** Every agent GET /v1/commands/{id} lists, page by page of `limit`. */
async function listed(e: Engine, id: string, limit: number, outcome?: AgentResult["outcome"]): Promise<AgentResult[]> {
  const agents: AgentResult[] = [];
  let cursor: string | undefined;
  do {
    const page = await getCommandPage(e.deps, id, { limit, cursor, ...(outcome ? { outcome } : {}) });
    agents.push(...page.agents);
    cursor = page.next_cursor;
  } while (cursor);
  return agents;
}

async function deliveries(id: string): Promise<Record<string, number>> {
  return ((await simulatorControl(info, "GET", `deliveries?message_id=${encodeURIComponent(id)}`)) as { agents: Record<string, number> }).agents;
}

/** 30 silent agents of this file's own and 5 GSE does not know (refused at once, for good): 4 batches. */
async function sentCommand(e: Engine, label: string): Promise<{ id: string; ids: string[]; unknown: string[] }> {
  const { ids } = await addSimAgents(info, 30);
  await simulatorControl(info, "POST", "agents/silent", { ids, silent: true });
  const unknown = Array.from({ length: 5 }, (_, i) => `sparse-${run}-${label}-gone-${i}`);
  const id = `test.cmd-sparse.${label}.${run}.${randomUUID().slice(0, 8)}`;
  await dispatchCommand(e.deps, { message_id: id, agent_id_list: [...ids, ...unknown], content: "upgrade" }, "tester");
  await runTicks(e);
  return { id, ids, unknown };
}

describe("a command awaiting no reply keeps agent items only for what happened to an agent", () => {
  it("leaves no item for a delivered agent and one FAILED item for each agent GSE refused", async () => {
    const e = engine();
    const { id, unknown } = await sentCommand(e, "items");
    const items = await agentItems(id);
    expect(items.map((a) => a.agent_id).sort()).toEqual([...unknown].sort());
    expect(items.every((a) => a.outcome === "FAILED")).toBe(true);
  });

  it("counts from its batches and its failure items: 30 SENT and 5 FAILED of 35, stored with its end and shown alike while listed", async () => {
    const e = engine();
    const { id, ids, unknown } = await sentCommand(e, "counts");
    const stored = await store.getCommand(id);
    expect(stored).toMatchObject({ status: "PARTIAL", batches_done: 4, errors: 5, pending_retries: 0 });
    expect(stored?.counts).toMatchObject({ SENT: 30, FAILED: 5, PENDING: 0, SKIPPED: 0, RETRYING: 0 });
    // Every agent listed once, across pages that end inside a batch: delivered ones from their batch.
    const all = await listed(e, id, 7);
    expect(all.map((a) => a.bk_agent_id).sort()).toEqual([...ids, ...unknown].sort());
    expect(
      all
        .filter((a) => a.outcome === "SENT")
        .map((a) => a.bk_agent_id)
        .sort(),
    ).toEqual([...ids].sort());
    expect((await listed(e, id, 4, "SENT")).map((a) => a.bk_agent_id).sort()).toEqual([...ids].sort());
    expect((await listed(e, id, 100, "FAILED")).map((a) => a.bk_agent_id).sort()).toEqual([...unknown].sort());
  });

  it("creates a replying agent's item once: a repeated reply is a duplicate, a reply from an agent it was not sent to is upstream", async () => {
    const e = engine();
    const { id, ids } = await sentCommand(e, "reply");
    const agent = ids[3] as string;
    const reply = (bk_agent_id: string) =>
      receiveCallback({ store, now: () => e.clock.now, retentionMs: SETTINGS.retentionMs }, { message_id: id, bk_agent_id, content: '{"code":0}' });
    expect(await reply(agent)).toBe("replied");
    expect(await reply(agent)).toBe("duplicate");
    expect(await reply(`sparse-${run}-stranger`)).toBe("upstream");
    const items = await agentItems(id);
    expect(items.filter((a) => a.agent_id === agent)).toMatchObject([{ outcome: "REPLIED" }]);
    expect(items).toHaveLength(6);
    const page = await getCommandPage(e.deps, id, { limit: 100 });
    expect(page.agents.find((a) => a.bk_agent_id === agent)).toMatchObject({ outcome: "REPLIED", reply: '{"code":0}' });
    expect(page.agents.filter((a) => a.outcome === "SENT")).toHaveLength(29);
  });

  it("sends a batch whose sender died after its claim, before GSE, once: taken over after the lease, each agent delivered once, counted once", async () => {
    const e = engine();
    const { ids } = await addSimAgents(info, 20);
    await simulatorControl(info, "POST", "agents/silent", { ids, silent: true });
    const id = `test.cmd-sparse.takeover.${run}.${randomUUID().slice(0, 8)}`;
    await dispatchCommand(e.deps, { message_id: id, agent_id_list: ids, content: "upgrade", max_concurrency: 10 }, "tester");
    // A sender claims batch 1 and dies before calling GSE.
    const command = await store.getCommand(id);
    const batch = (await store.batches(id, command?.body_hash ?? "")).find((b) => b.index === 1);
    if (!command || !batch) throw new Error("batch 1 not stored");
    const claimed = await store.claimBatch(
      { messageId: id, sk: batch.sk, claim: "a sender that dies", state: batch.state, size: batch.size },
      { now: e.clock.now, leaseMs: SETTINGS.leaseMs, maxConcurrency: command.max_concurrency },
    );
    expect(claimed).toMatchObject({ state: "SENDING", agent_ids: ids.slice(10) });
    e.clock.now += SETTINGS.leaseMs + 1;
    const body = { type: COMMAND_TICK_JOB, message_id: id };
    await tickJobHandler(e.deps, SETTINGS.sendBudgetMs)(body, sqsRecord(JSON.stringify(body)));
    expect(await store.getCommand(id)).toMatchObject({ status: "SUCCEEDED", batches_done: 2, errors: 0, counts: { SENT: 20 } });
    expect(Object.values(await deliveries(id))).toEqual(ids.map(() => 1));
    expect(await agentItems(id)).toEqual([]);
  });
});
