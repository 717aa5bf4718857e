/**
 * Batched command retries against the stack: recovery (the commands stream) puts failed agents in
 * rounds, the automation queue runs one job per command and due time, each round one GSE call per
 * DISPATCH_BATCH_SIZE (1000) due agents. GSE calls are counted per message id by a zero-latency
 * simulator fault matching that id (its remaining hits tell how many calls carried it), so other
 * files' calls never move a count here. Agents live in 10.240–10.242, this file's own.
 */
import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import type { CommandView } from "../../../lib/commands/schemas.ts";
import { AGENT_SHARDS } from "../../../lib/commands/store/items.ts";
import { commandFinished, commandPage, commandStore, storedCommandAgents } from "../../helpers/commands.ts";
import { callApi, eventually, logLines, simulatorControl, useStack, type ApiResponse } from "../../helpers/stack.ts";

const { info, authHeader, sqs, sns, dynamo } = useStack();
const run = randomUUID().slice(0, 8);
const DISPATCH = "/api/v2/cluster/dispatch_message";
const COUNTER_HITS = 1_000_000;

afterAll(() => {
  sqs.destroy();
  sns.destroy();
  dynamo.destroy();
});

/** `n` agents of this file's own in the simulator, `down` of them not connected (code 1 when sent to). */
let block = 0;
async function addAgents(n: number, down = 0): Promise<string[]> {
  const b = block++;
  const agents = Array.from({ length: n }, (_, i) => ({
    bk_agent_id: `rty-${run}-${b}-${i}`,
    ip: `10.${240 + Math.floor(b / 16)}.${(b % 16) * 16 + (i >> 8)}.${i & 255}`,
    status_code: i < down ? 0 : 2,
    churn: false,
  }));
  for (let i = 0; i < agents.length; i += 5000) await simulatorControl(info, "POST", "agents", { agents: agents.slice(i, i + 5000) });
  const ids = agents.map((a) => a.bk_agent_id);
  // Replies are not what these tests look at; thousands of them would only load the machine.
  await simulatorControl(info, "POST", "agents/silent", { ids, silent: true });
  return ids;
}

const messageId = (label: string): string => `test.rty.${label}.${run}.${randomUUID().slice(0, 8)}`;
const dispatch = (body: Record<string, unknown>): Promise<ApiResponse> => callApi(info.gatewayUrl, DISPATCH, { method: "POST", headers: authHeader, body });
const finished = (id: string, timeoutMs: number): Promise<CommandView> => commandFinished(info, authHeader, id, timeoutMs);
/** A command a failed test leaves running would load the tests after it: cancelled (a 409 when it ended is fine). */
const cancel = (id: string): Promise<ApiResponse> =>
  callApi(info.gatewayUrl, `/v1/commands/${encodeURIComponent(id)}/cancel`, { method: "POST", headers: authHeader, body: { reason: "test done" } });

/** Counts the dispatch_message calls that carry `id` from now on (read with the returned function). */
async function countGseCalls(id: string): Promise<() => Promise<number>> {
  const added = (await simulatorControl(info, "POST", "faults/add", {
    faults: [{ kind: "latency", latencyMs: 0, operation: "dispatch_message", match: `"${id}"`, count: COUNTER_HITS }],
  })) as { faults: { id: number }[] };
  const faultId = added.faults[0]?.id;
  return async () => {
    const { faults } = (await simulatorControl(info, "GET", "faults")) as { faults: { id: number; remaining: number | null }[] };
    const mine = faults.find((f) => f.id === faultId);
    return COUNTER_HITS - (mine?.remaining ?? COUNTER_HITS);
  };
}

interface RetryLog {
  readonly message: string;
  readonly message_id?: string;
  readonly due?: number;
  readonly bytes?: number;
  readonly agents?: number;
  readonly calls?: number;
}

/** The runtime's retry log lines about one command (lib/commands/retry.ts). */
function retryLog(id: string, message: string): RetryLog[] {
  return logLines(info, "runtime")
    .filter((l) => l.includes(id) && l.includes(message))
    .map((l) => JSON.parse(l) as RetryLog)
    .filter((l) => l.message_id === id && l.message === message);
}

describe("batched command retries", () => {
  it("makes agents GSE does not know (code 2) FAILED for good at the first send: no retry, one GSE call", async () => {
    const [known] = await addAgents(1);
    const unknown = Array.from({ length: 50 }, (_, i) => `rty-${run}-unknown-${i}`);
    const id = messageId("unknown");
    const calls = await countGseCalls(id);
    const res = await dispatch({ message_id: id, agent_id_list: [known, ...unknown], content: "ping" });
    expect(res.status, res.text.slice(0, 300)).toBe(200);
    const command = await finished(id, 60_000);
    expect(command).toMatchObject({ status: "PARTIAL" });
    expect(command.counts).toMatchObject({ SENT: 1, FAILED: 50, RETRYING: 0 });
    const stored = await storedCommandAgents(info, dynamo, id);
    const failed = stored.filter((a) => a.outcome === "FAILED");
    expect(failed).toHaveLength(50);
    for (const agent of failed) expect(agent).toMatchObject({ code: 2, attempts: 1, final: true });
    // A retry would have come within the test stack's 2 s backoff: wait it out, then count.
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    expect(await calls()).toBe(1);
    expect(retryLog(id, "command retry queued")).toEqual([]);
  }, 90_000);

  it("retries 1,250 agents one GSE call per 1,000 due, one small job per command and due time, and ends SUCCEEDED", async () => {
    const agents = await addAgents(2500);
    // Every other one is down: each batch of the first send has failures.
    const down = agents.filter((_, i) => i % 2 === 0);
    await simulatorControl(info, "POST", "agents/status", { ids: down, status_code: 0 });
    const id = messageId("batched");
    const content = JSON.stringify({ action: "reload", pad: "x".repeat(20_000) });
    const calls = await countGseCalls(id);
    try {
      const res = await dispatch({ message_id: id, agent_id_list: agents, content });
      expect(res.status, res.text.slice(0, 300)).toBe(200);
      // Every batch out (1,250 failures), then they come back: before their first round as a rule,
      // and a round that comes first only fails them once more.
      await eventually(
        "every batch to be sent",
        async () => ((await commandPage(info, authHeader, id)).command.batches.sent === 3 ? true : undefined),
        120_000,
      );
      await simulatorControl(info, "POST", "agents/status", { ids: down, status_code: 2 });
      const command = await finished(id, 240_000);
      expect(command.status).toBe("SUCCEEDED");
      expect(command.counts).toMatchObject({ SENT: 2500, FAILED: 0, RETRYING: 0 });
    } finally {
      await cancel(id);
    }
    const queued = retryLog(id, "command retry queued");
    const rounds = retryLog(id, "command retry round");
    // One job per due time, each a few hundred bytes at most: no agents, no content.
    expect(queued.length).toBeGreaterThan(0);
    expect(new Set(queued.map((q) => q.due)).size).toBe(queued.length);
    for (const job of queued) expect(job.bytes).toBeLessThan(300);
    // Each round sent its agents in calls of at most 1000, and every agent was retried (once, unless a round beat the status change).
    for (const round of rounds) expect(round.calls).toBe(Math.ceil((round.agents ?? 0) / 1000));
    expect(rounds.reduce((sum, r) => sum + (r.agents ?? 0), 0)).toBeGreaterThanOrEqual(1250);
    const retryCalls = rounds.reduce((sum, r) => sum + (r.calls ?? 0), 0);
    expect(retryCalls).toBeLessThanOrEqual(queued.length);
    // The first send was three calls (1000 + 1000 + 500); the simulator saw those and the rounds' calls, nothing else.
    expect(await calls()).toBe(3 + retryCalls);
  }, 300_000);

  it("keeps retrying what stays down up to COMMAND_MAX_ATTEMPTS, while code 2 is final at once, and counts each outcome", async () => {
    const agents = await addAgents(30, 10);
    const [stuck, recovering, fine] = [agents.slice(0, 5), agents.slice(5, 10), agents.slice(10)];
    const unknown = Array.from({ length: 5 }, (_, i) => `rty-${run}-gone-${i}`);
    const id = messageId("mixed");
    const res = await dispatch({ message_id: id, agent_id_list: [...agents, ...unknown], content: "upgrade" });
    expect(res.status, res.text.slice(0, 300)).toBe(200);
    await simulatorControl(info, "POST", "agents/status", { ids: recovering, status_code: 2 });
    const command = await finished(id, 120_000).finally(() => cancel(id));
    expect(command.status).toBe("PARTIAL");
    expect(command.counts).toMatchObject({ SENT: 25, FAILED: 10, RETRYING: 0, PENDING: 0 });
    const stored = new Map((await storedCommandAgents(info, dynamo, id)).map((a) => [a.agent_id, a]));
    for (const agent of unknown) expect(stored.get(agent)).toMatchObject({ outcome: "FAILED", code: 2, attempts: 1, final: true });
    for (const agent of stuck) expect(stored.get(agent)).toMatchObject({ outcome: "FAILED", code: 1, attempts: 5, final: true });
    // Back before their first round as a rule; a round that beat the status change only adds an attempt.
    for (const agent of recovering) expect(stored.get(agent)).toMatchObject({ outcome: "SENT", attempts: expect.any(Number) });
    for (const agent of recovering) expect(stored.get(agent)?.attempts).toBeGreaterThanOrEqual(2);
    // Delivered by the first send to a command awaiting no reply: no item of their own (their SENT batch says it).
    for (const agent of fine) expect(stored.get(agent)).toBeUndefined();
    expect(await commandStore(info, dynamo).getCommand(id)).toMatchObject({ pending_retries: 0 });
  }, 150_000);
});

/**
 * The bound docs/architecture.md states for the test stack: a round due at t is done by t + 20 s,
 * whatever another command's rounds do (a slice holds a queue worker for one GSE call, 2 s here,
 * and its writes; DynamoDB Local on a loaded 2-core machine takes most of the rest).
 */
const FAIRNESS_BOUND_MS = 20_000;

describe("fair retry scheduling", () => {
  it("runs a small command's retry within its due time plus the bound while a 1,000-agent command's slow rounds are under way", async () => {
    const big = await addAgents(1000, 1000);
    const [small] = await addAgents(1, 1);
    const bigId = messageId("big");
    const smallId = messageId("small");
    const store = commandStore(info, dynamo);
    // Every GSE call of the big command takes 1.8 s (the stack's GSE timeout is 2 s): its agents stay down, so it keeps retrying.
    const slow = (await simulatorControl(info, "POST", "faults/add", {
      faults: [{ kind: "latency", latencyMs: 1800, operation: "dispatch_message", match: `"${bigId}"` }],
    })) as { faults: { id: number }[] };
    try {
      expect((await dispatch({ message_id: bigId, agent_id_list: big, content: "x".repeat(20_000) })).status).toBe(200);
      await eventually(
        "the big command's retries to be under way",
        async () =>
          (await store.agentPage({ message_id: bigId, agent_shards: AGENT_SHARDS }, { limit: 1, cursor: undefined, outcomes: ["RETRYING"] })).items.length > 0
            ? true
            : undefined,
        120_000,
      );
      expect((await dispatch({ message_id: smallId, agent_id_list: [small], content: "ping" })).status).toBe(200);
      await simulatorControl(info, "POST", "agents/status", { ids: [small], status_code: 2 });
      // Its due time, as recovery set it when it took the failure in hand.
      const due = await eventually(
        "the small command's agent to wait for its retry",
        async () => {
          const agent = await store.getAgent({ message_id: smallId, agent_shards: AGENT_SHARDS }, small as string);
          return agent?.outcome === "RETRYING" ? agent.retry_at : undefined;
        },
        120_000,
      );
      const sent = await eventually(
        "the small command's retry to be delivered",
        async () => {
          const agent = await store.getAgent({ message_id: smallId, agent_shards: AGENT_SHARDS }, small as string);
          return agent?.outcome === "SENT" ? agent : undefined;
        },
        120_000,
      );
      expect(sent.updated_at - (due ?? 0)).toBeLessThanOrEqual(FAIRNESS_BOUND_MS);
    } finally {
      await simulatorControl(info, "POST", "faults/remove", { ids: slow.faults.map((f) => f.id) });
      await callApi(info.gatewayUrl, `/v1/commands/${encodeURIComponent(bigId)}/cancel`, {
        method: "POST",
        headers: authHeader,
        body: { reason: "test done" },
      });
    }
  }, 300_000);
});
