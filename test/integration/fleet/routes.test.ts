/**
 * The /v1/fleet routes through the stack's local API gateway, on the stack's own fleet table. The
 * stack's scheduled heartbeat may poll these agents too (on real time); every assertion holds
 * whichever poll gets to an agent first, because both observe the same simulator and each write
 * is conditional on the state it read.
 */
import { describe, expect, it } from "vitest";
import { startPoll } from "../../../lib/heartbeat/poll.ts";
import { addSimAgents, setSimStatus, testHeartbeat } from "../../helpers/heartbeat.ts";
import { callApi, useStack } from "../../helpers/stack.ts";

const { info, authHeader } = useStack();
const api = (path: string, options: { method?: string; body?: unknown; auth?: boolean } = {}) =>
  callApi(info.gatewayUrl, path, {
    ...(options.method ? { method: options.method } : {}),
    ...(options.body !== undefined ? { body: options.body } : {}),
    headers: options.auth === false ? {} : authHeader,
  });

type AgentRow = { agent_id: string; status: string; last_seen: string | null; version?: string; status_code?: number; status_class?: string };

async function allAgents(query: string): Promise<AgentRow[]> {
  const rows: AgentRow[] = [];
  let cursor: string | null = null;
  do {
    const res = await api(`/v1/fleet/agents?limit=1000${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    expect(res.status).toBe(200);
    const data = res.body.data as { agents: AgentRow[]; next_cursor: string | null };
    rows.push(...data.agents);
    cursor = data.next_cursor;
  } while (cursor !== null);
  return rows;
}

describe("fleet routes", () => {
  it("refuses every fleet route without credentials", async () => {
    for (const [method, path] of [
      ["GET", "/v1/fleet"],
      ["GET", "/v1/fleet/agents"],
      ["POST", "/v1/fleet/agents/register"],
      ["POST", "/v1/fleet/agents/unregister"],
      ["GET", "/v1/fleet/agents/0:10.0.0.1/history"],
    ] as const) {
      const res = await api(path, { method, auth: false, ...(method === "POST" ? { body: { agent_id_list: ["0:10.0.0.1"] } } : {}) });
      expect(res.status, path).toBe(401);
    }
  });

  it("answers bad input with 400 naming the field, and changes nothing", async () => {
    const empty = await api("/v1/fleet/agents/register", { method: "POST", body: { agent_id_list: [] } });
    expect(empty.status).toBe(400);
    expect(empty.body).toMatchObject({ code_name: "INVALID_ARGS", data: { errors: [expect.objectContaining({ path: "agent_id_list" })] } });
    const status = await api("/v1/fleet/agents?status=sleeping");
    expect(status.status).toBe(400);
    expect(status.body).toMatchObject({ data: { errors: [expect.objectContaining({ path: "status" })] } });
    const cls = await api("/v1/fleet/agents?class=sleeping");
    expect(cls.status).toBe(400);
    expect(cls.body).toMatchObject({ data: { errors: [expect.objectContaining({ path: "class" })] } });
    const cursor = await api("/v1/fleet/agents?cursor=garbage");
    expect(cursor.status).toBe(400);
    expect(cursor.body).toMatchObject({ data: { errors: [{ path: "cursor", message: expect.any(String) }] } });
    const never = await api(`/v1/fleet/agents/${encodeURIComponent("0:203.0.113.250")}/history`);
    expect(never.status).toBe(404);
  });

  it("registers agents, shows them after a poll by status with their history, and unregisters them", async () => {
    const { ids } = await addSimAgents(info, 3, { version: "2.0.9" });
    const registered = await api("/v1/fleet/agents/register", { method: "POST", body: { agent_id_list: ids } });
    expect(registered.status).toBe(200);
    expect(registered.body.data).toEqual({ registered: 3, already_watched: 0 });
    const again = await api("/v1/fleet/agents/register", { method: "POST", body: { agent_id_list: ids } });
    expect(again.body.data).toEqual({ registered: 0, already_watched: 3 });

    // A poll of the stack's own fleet table, at a time no scheduled tick uses.
    const hb = await testHeartbeat({}, { table: info.tables.fleet });
    hb.clock.now = Date.now() + 1234;
    await startPoll(hb.deps, hb.clock.now);
    expect(hb.queued).toEqual([]);

    const alive = await allAgents("&status=alive&version=2.0.9");
    expect(
      alive
        .filter((a) => ids.includes(a.agent_id))
        .map((a) => a.agent_id)
        .sort(),
    ).toEqual([...ids].sort());
    const outdated = await allAgents("&outdated=false");
    expect(outdated.some((a) => ids.includes(a.agent_id))).toBe(true);

    const history = await api(`/v1/fleet/agents/${encodeURIComponent(ids[0]!)}/history`);
    expect(history.status).toBe(200);
    expect(history.body.data).toMatchObject({
      agent: { agent_id: ids[0], status: "alive", status_code: 2, status_class: "alive", version: "2.0.9", sources: ["api"] },
      transitions: [{ kind: "newly_seen", from: "pending", to: "alive", status_code: 2, status_class: "alive" }],
      next_cursor: null,
    });

    const summary = await api("/v1/fleet");
    expect(summary.status).toBe(200);
    expect(summary.body.data).toMatchObject({
      by_status: { alive: expect.any(Number) },
      by_version: expect.arrayContaining([expect.objectContaining({ version: "2.0.9" })]),
    });

    const gone = await api("/v1/fleet/agents/unregister", { method: "POST", body: { agent_id_list: [...ids, "0:203.0.113.251"] } });
    expect(gone.body.data).toEqual({ unregistered: 3, not_watched: 1 });
    expect((await allAgents("")).some((a) => ids.includes(a.agent_id))).toBe(false);
    const after = await api(`/v1/fleet/agents/${encodeURIComponent(ids[0]!)}/history`);
    expect(after.body.data).toMatchObject({ agent: null, transitions: [{ kind: "newly_seen" }] });
  });

  it("shows each agent's status class beside its status_code, filters by class, and counts the fleet by class", async () => {
    const { ids } = await addSimAgents(info, 4);
    const codes = [2, 3, 5, -1];
    for (const [i, code] of codes.entries()) if (code !== 2) await setSimStatus(info, [ids[i]!], code);
    expect((await api("/v1/fleet/agents/register", { method: "POST", body: { agent_id_list: ids } })).status).toBe(200);
    const hb = await testHeartbeat({}, { table: info.tables.fleet });
    hb.clock.now = Date.now() + 2345;
    await startPoll(hb.deps, hb.clock.now);

    const mine = (rows: AgentRow[]) => new Map(rows.filter((a) => ids.includes(a.agent_id)).map((a) => [a.agent_id, a]));
    const all = mine(await allAgents(""));
    expect(codes.map((_, i) => all.get(ids[i]!))).toEqual([
      expect.objectContaining({ status: "alive", status_code: 2, status_class: "alive" }),
      // Never seen alive, first seen down: lost at once (and no lost alert: it never went from alive to lost).
      expect.objectContaining({ status: "lost", status_code: 3, status_class: "degraded" }),
      // First seen upgrading: not running yet, not down either.
      expect.objectContaining({ status: "pending", status_code: 5, status_class: "transitional" }),
      // GSE's query failed for it: nothing known, it stays as it was.
      expect.objectContaining({ status: "pending", status_code: -1, status_class: "unknown" }),
    ]);
    const transitional = mine(await allAgents("&class=transitional"));
    expect([...transitional.keys()]).toEqual([ids[2]]);
    expect([...mine(await allAgents("&class=degraded&status=lost")).keys()]).toEqual([ids[1]]);

    // The last poll's summary: the stack's scheduled one may have finished after ours, so only its shape is ours to assert.
    const summary = await api("/v1/fleet");
    const byClass = (summary.body.data as { by_class?: Record<string, number> }).by_class;
    expect(byClass).toEqual({
      alive: expect.any(Number),
      degraded: expect.any(Number),
      transitional: expect.any(Number),
      gone: expect.any(Number),
      unknown: expect.any(Number),
    });
    await api("/v1/fleet/agents/unregister", { method: "POST", body: { agent_id_list: ids } });
  });
});
