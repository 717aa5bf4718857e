/**
 * Commands gate on outcomes (docs/rollouts.md §1), end to end on the shared local stack: the
 * window bounds agents in flight (sent, not settled), timeouts and failing replies are errors,
 * past max_errors the command aborts with one alert carrying the final counts, and a paused
 * command claims nothing. What GSE saw is read from the simulator's delivery timeline, never
 * from our own bookkeeping.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CommandView } from "../../../lib/commands/schemas.ts";
import { alertInbox, type AlertInbox } from "../../helpers/configs.ts";
import { commandFinished, commandPage } from "../../helpers/commands.ts";
import { callApi, eventually, simulatorControl, uniqueSimIp, useStack, type ApiResponse } from "../../helpers/stack.ts";

const { info, authHeader, sqs, sns, dynamo } = useStack();
const run = randomUUID().slice(0, 8);
const DISPATCH = "/api/v2/cluster/dispatch_message";
let inbox: AlertInbox;

interface Timeline {
  readonly calls: number;
  readonly agents: Record<string, number>;
  readonly timeline: { bk_agent_id: string; delivered_at: number; reply_issued_at: number | null }[];
}

let block = 0;
/** `n` connected agents of this file's own (no status churn), at addresses no other file draws. */
async function addAgents(n: number): Promise<string[]> {
  const b = block++;
  const agents = Array.from({ length: n }, (_, i) => ({ bk_agent_id: `og-${run}-${b}-${i}`, ip: uniqueSimIp("10.238"), status_code: 2, churn: false }));
  for (let i = 0; i < agents.length; i += 5000) await simulatorControl(info, "POST", "agents", { agents: agents.slice(i, i + 5000) });
  return agents.map((a) => a.bk_agent_id);
}

const messageId = (label: string): string => `test.gate.${label}.${run}.${randomUUID().slice(0, 8)}`;
const dispatch = (body: Record<string, unknown>): Promise<ApiResponse> => callApi(info.gatewayUrl, DISPATCH, { method: "POST", headers: authHeader, body });
const finished = (id: string, timeoutMs = 60_000): Promise<CommandView> => commandFinished(info, authHeader, id, timeoutMs);
const commandPath = (id: string): string => `/v1/commands/${encodeURIComponent(id)}`;

async function delivered(id: string): Promise<Timeline> {
  return (await simulatorControl(info, "GET", `deliveries?message_id=${encodeURIComponent(id)}`)) as Timeline;
}

/**
 * The most agents the simulator ever had in flight for the message: from a delivery until its
 * reply started being posted (never, for a silent agent). A reply issued at the same ms as a
 * delivery counts first: our next claim can only follow a settle, which follows the reply.
 */
function maxInFlight(timeline: Timeline["timeline"]): number {
  const events = timeline.flatMap((e) => [{ at: e.delivered_at, delta: 1 }, ...(e.reply_issued_at === null ? [] : [{ at: e.reply_issued_at, delta: -1 }])]);
  events.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let now = 0;
  let max = 0;
  for (const e of events) {
    now += e.delta;
    max = Math.max(max, now);
  }
  return max;
}

/** The command's one alert, once it is out; then a little longer, to see no second one comes. */
async function onlyAlert(id: string): Promise<Record<string, unknown>> {
  const [alert] = await eventually(
    "the command's alert",
    async () => {
      const found = await inbox.about(`command#${id}`);
      return found.length > 0 ? found : undefined;
    },
    30_000,
  );
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  expect(await inbox.about(`command#${id}`)).toHaveLength(1);
  return alert as unknown as Record<string, unknown>;
}

const sum = (counts: Record<string, number>): number => Object.values(counts).reduce((a, b) => a + b, 0);

beforeAll(async () => {
  inbox = await alertInbox(info, sqs, sns);
});

afterAll(() => {
  sqs.destroy();
  sns.destroy();
  dynamo.destroy();
});

describe("a command gates on outcomes", () => {
  it("sends one silent agent at a time, aborts at its timeout past max_errors 0, skips the rest, and alerts once with the final counts", async () => {
    const agents = await addAgents(3);
    await simulatorControl(info, "POST", "agents/silent", { ids: agents, silent: true });
    const id = messageId("silent");
    const res = await dispatch({ message_id: id, agent_id_list: agents, content: "probe", max_concurrency: 1, max_errors: 0, reply_timeout_seconds: 2 });
    expect(res.status, res.text.slice(0, 300)).toBe(200);

    const ended = await finished(id);
    expect(ended.status).toBe("ABORTED");
    expect(ended.counts).toMatchObject({ TIMED_OUT: 1, SKIPPED: 2, PENDING: 0, SENT: 0 });
    expect(ended.rollout).toMatchObject({ errors: 1, max_errors: 0, in_flight: 0 });
    const seen = await delivered(id);
    expect(Object.keys(seen.agents)).toHaveLength(1);
    expect(seen.calls).toBe(1);

    const alert = await onlyAlert(id);
    const final = (await commandPage(info, authHeader, id)).command;
    expect(alert).toMatchObject({ type: "command.aborted", status: "ABORTED", errors: 1, max_errors: 0, counts: final.counts });
    expect(alert.failing_sample).toEqual([{ bk_agent_id: Object.keys(seen.agents)[0], outcome: "TIMED_OUT" }]);
  }, 60_000);

  it("keeps 1,000 agents at 10% within 100 in flight, in 10 GSE calls, and SUCCEEDS with 3% failing replies under max_errors 5%", async () => {
    const agents = await addAgents(1000);
    const failing = agents.filter((_, i) => i % 33 === 5).slice(0, 30);
    await simulatorControl(info, "POST", "agents/replies", { ids: failing, content: JSON.stringify({ code: 1, message: "failed" }) });
    const id = messageId("window");
    const res = await dispatch({
      message_id: id,
      agent_id_list: agents,
      content: "upgrade",
      max_concurrency: "10%",
      max_errors: "5%",
      reply_timeout_seconds: 30,
    });
    expect(res.status, res.text.slice(0, 300)).toBe(200);

    const ended = await finished(id, 240_000);
    expect(ended.status).toBe("SUCCEEDED");
    expect(ended.counts).toMatchObject({ REPLIED: 970, FAILED: 30, TIMED_OUT: 0, SKIPPED: 0 });
    expect(ended.rollout).toMatchObject({ errors: 30, max_errors: 50, max_concurrency: 100, in_flight: 0 });
    const seen = await delivered(id);
    expect(seen.timeline).toHaveLength(1000);
    expect(maxInFlight(seen.timeline)).toBeLessThanOrEqual(100);
    expect(seen.calls).toBe(10);
    const failed = await commandPage(info, authHeader, id, "?outcome=FAILED&limit=100");
    expect(failed.agents.map((a) => a.bk_agent_id).sort()).toEqual([...failing].sort());
    expect(failed.agents[0]).toMatchObject({ code: 1, message: "failed", reply: JSON.stringify({ code: 1, message: "failed" }) });
  }, 300_000);

  it("ABORTS 1,000 agents at 10% with 8% failing replies before the errors pass max_errors 5% plus one window", async () => {
    const agents = await addAgents(1000);
    const failing = agents.filter((_, i) => i % 12 === 3).slice(0, 80);
    await simulatorControl(info, "POST", "agents/replies", { ids: failing, content: JSON.stringify({ code: 7, message: "bad config" }) });
    const id = messageId("abort");
    const res = await dispatch({
      message_id: id,
      agent_id_list: agents,
      content: "upgrade",
      max_concurrency: "10%",
      max_errors: "5%",
      reply_timeout_seconds: 30,
    });
    expect(res.status, res.text.slice(0, 300)).toBe(200);

    const ended = await finished(id, 240_000);
    expect(ended.status).toBe("ABORTED");
    expect(ended.rollout.errors).toBeGreaterThan(50);
    expect(ended.rollout.errors).toBeLessThanOrEqual(50 + 100);
    expect(ended.counts.FAILED).toBeLessThanOrEqual(50 + 100);
    expect(ended.counts.SKIPPED).toBeGreaterThan(0);
    const seen = await delivered(id);
    expect(maxInFlight(seen.timeline)).toBeLessThanOrEqual(100);
    expect(seen.timeline.length).toBe(1000 - ended.counts.SKIPPED);

    const alert = await onlyAlert(id);
    const final = (await commandPage(info, authHeader, id)).command;
    expect(alert).toMatchObject({ status: "ABORTED", counts: final.counts, errors: final.rollout.errors, max_errors: 50 });
    expect(sum(final.counts)).toBe(1000);
    const sample = alert.failing_sample as { bk_agent_id: string; outcome: string; code?: number; message?: string }[];
    expect(sample.length).toBeGreaterThan(0);
    expect(sample.length).toBeLessThanOrEqual(20);
    for (const agent of sample) expect(agent).toEqual({ bk_agent_id: expect.any(String), outcome: "FAILED", code: 7, message: "bad config" });
  }, 300_000);
});

describe("reply rules, pause and the window without reply tracking", () => {
  it("judges replies by a regex rule (a match fails, the reply kept) and by none (every reply succeeds)", async () => {
    const [bad, good] = await addAgents(2);
    await simulatorControl(info, "POST", "agents/replies", { ids: [bad], content: "ERROR: disk full" });
    const byRegex = messageId("regex");
    const regex = { kind: "regex", pattern: "^error", flags: "i" };
    expect((await dispatch({ message_id: byRegex, agent_id_list: [bad, good], content: "df", reply_timeout_seconds: 10, reply_rule: regex })).status).toBe(200);
    const judged = await finished(byRegex);
    expect(judged).toMatchObject({ status: "PARTIAL", counts: expect.objectContaining({ FAILED: 1, REPLIED: 1 }), reply_rule: regex });
    expect(judged.rollout.errors).toBe(1);
    const failed = await commandPage(info, authHeader, byRegex, "?outcome=FAILED");
    expect(failed.agents).toEqual([
      expect.objectContaining({ bk_agent_id: bad, outcome: "FAILED", reply: "ERROR: disk full", message: "reply matches ^error" }),
    ]);

    await simulatorControl(info, "POST", "agents/replies", { ids: [bad], content: JSON.stringify({ code: 1 }) });
    const byNone = messageId("none");
    const none = await dispatch({ message_id: byNone, agent_id_list: [bad, good], content: "df", reply_timeout_seconds: 10, reply_rule: { kind: "none" } });
    expect(none.status).toBe(200);
    expect(await finished(byNone)).toMatchObject({
      status: "SUCCEEDED",
      counts: expect.objectContaining({ REPLIED: 2 }),
      rollout: expect.objectContaining({ errors: 0 }),
    });
  }, 60_000);

  it("refuses a reply rule whose pattern is no regular expression with a 400 naming reply_rule.pattern, and records nothing", async () => {
    const [agent] = await addAgents(1);
    const id = messageId("bad-regex");
    const res = await dispatch({
      message_id: id,
      agent_id_list: [agent],
      content: "x",
      reply_timeout_seconds: 10,
      reply_rule: { kind: "regex", pattern: "(" },
    });
    expect(res.status).toBe(400);
    expect(res.text).toContain("reply_rule.pattern");
    expect((await callApi(info.gatewayUrl, commandPath(id), { headers: authHeader })).status).toBe(404);
  });

  it("claims nothing while paused (agents in flight still settle) and goes on after resume", async () => {
    const agents = await addAgents(3);
    await simulatorControl(info, "POST", "agents/silent", { ids: agents, silent: true });
    const id = messageId("pause");
    expect((await dispatch({ message_id: id, agent_id_list: agents, content: "slow", max_concurrency: 1, reply_timeout_seconds: 2 })).status).toBe(200);
    const paused = await callApi(info.gatewayUrl, `${commandPath(id)}/pause`, { method: "POST", headers: authHeader, body: {} });
    expect(paused.status, paused.text).toBe(200);
    expect((paused.body.data as CommandView).rollout.paused).toBe(true);
    // The first agent times out (settles) while paused; nothing else is sent.
    await eventually(
      "the first agent to time out while paused",
      async () => ((await commandPage(info, authHeader, id)).command.counts.TIMED_OUT === 1 ? true : undefined),
      20_000,
    );
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    expect(Object.keys((await delivered(id)).agents)).toHaveLength(1);
    expect((await commandPage(info, authHeader, id)).command).toMatchObject({
      status: "RUNNING",
      rollout: expect.objectContaining({ paused: true, in_flight: 0 }),
    });

    const resumed = await callApi(info.gatewayUrl, `${commandPath(id)}/resume`, { method: "POST", headers: authHeader, body: {} });
    expect(resumed.status, resumed.text).toBe(200);
    const ended = await finished(id);
    expect(ended).toMatchObject({ status: "FAILED", counts: expect.objectContaining({ TIMED_OUT: 3 }), rollout: expect.objectContaining({ paused: false }) });
    const seen = await delivered(id);
    expect(Object.keys(seen.agents)).toHaveLength(3);
    expect(maxInFlight(seen.timeline)).toBe(3); // silent: the simulator never sees them settle
    // One at a time: each delivery only after the previous agent's deadline.
    const times = seen.timeline.map((e) => e.delivered_at).sort((a, b) => a - b);
    for (let i = 1; i < times.length; i++) expect((times[i] as number) - (times[i - 1] as number)).toBeGreaterThanOrEqual(2_000);
    const again = await callApi(info.gatewayUrl, `${commandPath(id)}/pause`, { method: "POST", headers: authHeader, body: {} });
    expect(again.status).toBe(409);
  }, 90_000);

  it("settles agents on delivery without reply tracking: the window moves as GSE takes each batch", async () => {
    const agents = await addAgents(6);
    const id = messageId("untracked");
    expect((await dispatch({ message_id: id, agent_id_list: agents, content: "reload", max_concurrency: 2 })).status).toBe(200);
    const ended = await finished(id);
    expect(ended).toMatchObject({ status: "SUCCEEDED", batches: expect.objectContaining({ total: 3, sent: 3, size: 2 }) });
    expect(ended.rollout.in_flight).toBe(0);
    const seen = await delivered(id);
    expect(seen.calls).toBe(3);
    expect(Object.keys(seen.agents)).toHaveLength(6);
  }, 60_000);
});
