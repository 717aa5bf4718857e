import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { dispatchCommand } from "../../../lib/commands/api.ts";
import { receiveCallback } from "../../../lib/commands/reply.ts";
import { commandRecoveryRule, tickJobHandler } from "../../../lib/commands/retry.ts";
import { COMMAND_TICK_JOB, type CommandSettings } from "../../../lib/commands/settings.ts";
import {
  AGENT_SHARDS,
  agentPartitions,
  agentPk,
  commandPk,
  type AgentCommandItem,
  type AgentsOf,
  type CommandItem,
} from "../../../lib/commands/store/items.ts";
import { ValidationError } from "../../../lib/core/errors.ts";
import { commandItem, sqsRecord, streamRecord } from "../../helpers/events.ts";
import { addSimAgents } from "../../helpers/heartbeat.ts";
import { commandTestTable, TEST_COMMAND_SETTINGS } from "../../helpers/command-engine.ts";
import { simulatorControl, useStack } from "../../helpers/stack.ts";

const { info } = useStack();
const run = randomUUID().slice(0, 8);
const SETTINGS: CommandSettings = { ...TEST_COMMAND_SETTINGS, batchSize: 50 };
const table = commandTestTable("cmd-shards", SETTINGS);
const { store, engine } = table;

/** The agent items stored under one partition key. */
const itemsUnder = (pk: string) => table.itemsUnder<AgentCommandItem>(pk, "agent#");

/** Every agent item the store pages out with `limit`, following its cursors. */
async function paged(command: AgentsOf, limit: number, outcomes?: AgentCommandItem["outcome"][]): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await store.agentPage(command, { limit, cursor, ...(outcomes ? { outcomes } : {}) });
    expect(page.items.length).toBeLessThanOrEqual(limit);
    ids.push(...page.items.map((a) => a.agent_id));
    cursor = page.cursor;
    pages++;
  } while (cursor);
  return { ids, pages };
}

/** 200 silent agents (they never reply by themselves), sent a command that awaits no reply, each replying once by hand. */
async function repliedCommand(label: string): Promise<{ command: CommandItem; ids: string[] }> {
  const e = engine();
  const { ids } = await addSimAgents(info, 200);
  await simulatorControl(info, "POST", "agents/silent", { ids, silent: true });
  const id = `test.cmd-shards.${label}.${run}.${randomUUID().slice(0, 8)}`;
  await dispatchCommand(e.deps, { message_id: id, agent_id_list: ids, content: "upgrade" }, "tester");
  for (let i = 0; i < e.jobs.length; i++) {
    const job = e.jobs[i];
    if (!job || job.type !== COMMAND_TICK_JOB || job.delaySeconds > 0) continue;
    const body = { type: job.type, message_id: job.message_id };
    await tickJobHandler(e.deps, SETTINGS.sendBudgetMs)(body, sqsRecord(JSON.stringify(body)));
  }
  const callbacks = { store, now: () => e.clock.now, retentionMs: SETTINGS.retentionMs };
  for (const agent of ids) expect(await receiveCallback(callbacks, { message_id: id, bk_agent_id: agent, content: '{"code":0}' })).toBe("replied");
  const command = await store.getCommand(id);
  if (!command) throw new Error("command not stored");
  return { command, ids };
}

describe("a command's agent items spread over several partition keys", () => {
  it("writes 200 replies' items under all 8 of the command's agent keys, none under the command's own key, about evenly", async () => {
    const { command, ids } = await repliedCommand("spread");
    expect(command.agent_shards).toBe(AGENT_SHARDS);
    const perKey = await Promise.all(agentPartitions(command).map(itemsUnder));
    expect(perKey).toHaveLength(AGENT_SHARDS);
    expect(
      perKey
        .flat()
        .map((a) => a.agent_id)
        .sort(),
    ).toEqual([...ids].sort());
    // 25 a key on average; a stable hash of the id keeps each well under twice that.
    for (const items of perKey) expect(items.length).toBeGreaterThan(0);
    expect(Math.max(...perKey.map((items) => items.length))).toBeLessThan(50);
    expect(await itemsUnder(commandPk(command.message_id))).toEqual([]);
    // Each agent is found again by its key alone.
    const agent = ids[17] as string;
    expect(await store.getAgent(command, agent)).toMatchObject({ agent_id: agent, outcome: "REPLIED" });
  });

  it("pages through every agent once across the keys, with pages ending inside a key and at a key's end", async () => {
    const { command, ids } = await repliedCommand("pages");
    const sizes = await Promise.all(agentPartitions(command).map(async (pk) => (await itemsUnder(pk)).length));
    for (const limit of [1, 7, sizes[0] as number, 200, 500]) {
      const { ids: listed, pages } = await paged(command, limit);
      expect(listed).toHaveLength(ids.length);
      expect(new Set(listed)).toEqual(new Set(ids));
      expect(pages).toBeGreaterThanOrEqual(Math.ceil(ids.length / limit));
    }
    // A filter that keeps nothing still ends.
    expect(await paged(command, 10, ["FAILED"])).toMatchObject({ ids: [] });
    // And the counting walk reads every key.
    const counted: string[] = [];
    for await (const page of store.agentItems(command, true)) counted.push(...page.map((a) => a.agent_id));
    expect(counted.sort()).toEqual([...ids].sort());
  });

  it("refuses a cursor that names another command's key", async () => {
    const { command } = await repliedCommand("cursor");
    const first = await store.agentPage(command, { limit: 3, cursor: undefined });
    expect(first.cursor).toBeDefined();
    const other: AgentsOf = { message_id: `${command.message_id}-other`, agent_shards: AGENT_SHARDS };
    await expect(store.agentPage(other, { limit: 3, cursor: first.cursor })).rejects.toBeInstanceOf(ValidationError);
  });
});

describe("a sharded command's retries", () => {
  it("keeps each retry entry under its agent's key and finds the due ones across the keys, earliest first", async () => {
    const id = `test.cmd-shards.retries.${run}.${randomUUID().slice(0, 8)}`;
    const e = engine();
    const command = commandItem({ message_id: id, status: "RUNNING", created_at: e.clock.now, updated_at: e.clock.now, agent_shards: AGENT_SHARDS });
    expect(await store.createCommand(command)).toBe(true);
    const agents = Array.from({ length: 40 }, (_, i) => `retry-${run}-${i}`);
    await store.recordFailures(
      command,
      agents.map((agentId) => ({ agentId, code: 1, message: "not connected", final: false })),
      { now: e.clock.now, batch: 0, expiresAt: command.expires_at },
    );
    const recover = commandRecoveryRule({ ...e.deps, alerts: { publish: async () => undefined } });
    // Failures taken in hand over 40 s: their due times differ.
    for (const agent of agents) {
      e.clock.now += 1_000;
      await recover(streamRecord("INSERT", await store.getAgent(command, agent)));
    }
    const entriesUnder = (pk: string) => table.itemsUnder<{ agent_id: string }>(pk, "retry#");
    expect(await entriesUnder(commandPk(id))).toEqual([]);
    const perKey = await Promise.all(agentPartitions(command).map(entriesUnder));
    expect(perKey.flat()).toHaveLength(agents.length);
    expect(perKey.filter((entries) => entries.length > 0).length).toBeGreaterThan(1);
    for (const [n, entries] of perKey.entries()) for (const entry of entries) expect(agentPk(command, entry.agent_id)).toBe(agentPartitions(command)[n]);
    const far = e.clock.now + 3_600_000;
    const all = await store.dueRetries(command, far, 100);
    expect(all.map((x) => x.agent_id).sort()).toEqual([...agents].sort());
    const order = all.map((x) => x.sk);
    expect(order).toEqual([...order].sort());
    // A slice takes the earliest across every key.
    expect((await store.dueRetries(command, far, 5)).map((x) => x.sk)).toEqual(order.slice(0, 5));
    const firstDue = all[0]?.due ?? 0;
    expect((await store.dueRetries(command, firstDue, 100)).every((x) => x.due <= firstDue)).toBe(true);
    await store.dropRetryEntries(all.slice(0, 5));
    expect((await store.dueRetries(command, far, 100)).map((x) => x.sk)).toEqual(order.slice(5));
  });
});

describe("a command written before agent shards", () => {
  it("keeps its agent items under the command's own key: written, read, paged and retried there", async () => {
    const id = `test.cmd-shards.legacy.${run}.${randomUUID().slice(0, 8)}`;
    const now = Date.now();
    const legacy = commandItem({ message_id: id, status: "RUNNING", created_at: now, updated_at: now, pending_retries: 0, errors: 0 });
    expect(legacy.agent_shards).toBeUndefined();
    expect(await store.createCommand(legacy)).toBe(true);
    const agents = Array.from({ length: 30 }, (_, i) => `legacy-${run}-${i}`);
    await store.prewriteAgents({ command: legacy, batch: 0, agentIds: agents, now, expiresAt: legacy.expires_at, firstSend: true });
    const failed = agents[4] as string;
    const count = await store.recordFailures(legacy, [{ agentId: failed, code: 1, message: "not connected", final: false }], {
      now,
      batch: 0,
      expiresAt: legacy.expires_at,
    });
    expect(count).toEqual({ failed: 1, retrying: 1 });
    expect((await itemsUnder(commandPk(id))).map((a) => a.agent_id).sort()).toEqual([...agents].sort());
    expect((await paged(legacy, 7)).ids.sort()).toEqual([...agents].sort());
    // The stream's record of the failure under the old key still schedules its retry.
    const e = engine();
    const alerts = { publish: async () => undefined };
    const failedItem = await store.getAgent(legacy, failed);
    await commandRecoveryRule({ ...e.deps, alerts })(streamRecord("MODIFY", failedItem, { ...failedItem, outcome: "PENDING" }));
    expect(await store.getAgent(legacy, failed)).toMatchObject({ outcome: "RETRYING" });
  });

  it("schedules the retry of a FAILED agent whose item is under an agent key, for a message id holding '#'", async () => {
    const id = `test.cmd-shards#stream#3.${run}`;
    const now = Date.now();
    const command = commandItem({ message_id: id, status: "RUNNING", created_at: now, updated_at: now, agent_shards: AGENT_SHARDS });
    expect(await store.createCommand(command)).toBe(true);
    const agent = `shard-${run}-failing`;
    await store.recordFailures(command, [{ agentId: agent, code: 1, message: "not connected", final: false }], {
      now,
      batch: 0,
      expiresAt: command.expires_at,
    });
    const item = await store.getAgent(command, agent);
    expect(item?.pk.startsWith("cmdagents#")).toBe(true);
    const e = engine();
    await commandRecoveryRule({ ...e.deps, alerts: { publish: async () => undefined } })(streamRecord("INSERT", item));
    expect(await store.getAgent(command, agent)).toMatchObject({ outcome: "RETRYING" });
    expect(e.jobs.filter((j) => j.message_id === id)).toHaveLength(1);
  });
});
