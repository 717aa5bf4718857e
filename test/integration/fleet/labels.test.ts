/**
 * Labels on watched agents through the stack's local API gateway, on the stack's own fleet table,
 * beside the heartbeat's writes: neither may undo the other.
 */
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import { FleetStore, newFleetCalls } from "../../../lib/fleet/store.ts";
import { startPoll } from "../../../lib/heartbeat/poll.ts";
import { addSimAgents, testHeartbeat } from "../../helpers/heartbeat.ts";
import { callApi, useStack } from "../../helpers/stack.ts";

const { info, authHeader, dynamo } = useStack();
const api = (path: string, options: { method?: string; body?: unknown; auth?: boolean } = {}) =>
  callApi(info.gatewayUrl, path, {
    ...(options.method ? { method: options.method } : {}),
    ...(options.body !== undefined ? { body: options.body } : {}),
    headers: options.auth === false ? {} : authHeader,
  });
const labelsPath = (id: string) => `/v1/fleet/agents/${encodeURIComponent(id)}/labels`;
const store = new FleetStore({ client: DynamoDBDocumentClient.from(dynamo), tableName: info.tables.fleet });

async function watched(n: number): Promise<string[]> {
  const { ids } = await addSimAgents(info, n);
  expect((await api("/v1/fleet/agents/register", { method: "POST", body: { agent_id_list: ids } })).status).toBe(200);
  return ids;
}

async function shownLabels(id: string): Promise<unknown> {
  const res = await api(`/v1/fleet/agents/${encodeURIComponent(id)}/history?limit=1`);
  expect(res.status).toBe(200);
  return (res.body.data as { agent: { labels: unknown } }).agent.labels;
}

describe("fleet labels", () => {
  it("PUT replaces an agent's labels, PATCH sets and removes some, and the views show them", async () => {
    const [id] = await watched(1);
    expect(await shownLabels(id!)).toEqual({});

    const put = await api(labelsPath(id!), { method: "PUT", body: { labels: { env: "prod", zone: "sz-1", tier: "web" } } });
    expect(put.status).toBe(200);
    expect(put.body.data).toEqual({ agent_id: id, labels: { env: "prod", zone: "sz-1", tier: "web" } });

    const patch = await api(labelsPath(id!), { method: "PATCH", body: { set: { zone: "sz-2", team: "ops" }, remove: ["tier"] } });
    expect(patch.status).toBe(200);
    expect(patch.body.data).toEqual({ agent_id: id, labels: { env: "prod", zone: "sz-2", team: "ops" } });
    expect(await shownLabels(id!)).toEqual({ env: "prod", zone: "sz-2", team: "ops" });

    const list = await api(`/v1/fleet/agents?limit=1000&label=${encodeURIComponent("zone=sz-2")}`);
    expect(list.status).toBe(200);
    const rows = (list.body.data as { agents: { agent_id: string; labels: unknown }[] }).agents.filter((a) => a.agent_id === id);
    expect(rows).toEqual([expect.objectContaining({ agent_id: id, labels: { env: "prod", zone: "sz-2", team: "ops" } })]);

    const replaced = await api(labelsPath(id!), { method: "PUT", body: { labels: {} } });
    expect(replaced.body.data).toEqual({ agent_id: id, labels: {} });
    expect(await shownLabels(id!)).toEqual({});
  });

  it("concurrent PATCHes of different keys all stay", async () => {
    const [id] = await watched(1);
    const keys = Array.from({ length: 6 }, (_, i) => `k${i}`);
    const answers = await Promise.all(keys.map((k) => api(labelsPath(id!), { method: "PATCH", body: { set: { [k]: "v" } } })));
    expect(answers.map((a) => a.status)).toEqual(keys.map(() => 200));
    expect(await shownLabels(id!)).toEqual(Object.fromEntries(keys.map((k) => [k, "v"])));
  });

  it("answers 404 for an agent the fleet does not watch, and writes nothing", async () => {
    const nobody = "0:203.0.113.240";
    for (const [method, body] of [
      ["PUT", { labels: { env: "prod" } }],
      ["PATCH", { set: { env: "prod" } }],
    ] as const) {
      const res = await api(labelsPath(nobody), { method, body });
      expect(res.status, method).toBe(404);
    }
    expect(await store.getAgent(nobody, newFleetCalls())).toBeUndefined();
  });

  it("answers bad labels with 400 naming the field, and changes nothing", async () => {
    const [id] = await watched(1);
    await api(labelsPath(id!), { method: "PUT", body: { labels: { env: "prod" } } });
    const cases: [string, unknown, string][] = [
      ["PUT", { labels: { "Not A Key": "x" } }, "labels"],
      ["PUT", { labels: { env: "v".repeat(64) } }, "labels.env"],
      ["PUT", { labels: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, "v"])) }, "labels"],
      ["PUT", { env: "prod" }, "labels"],
      ["PATCH", { set: { env: "a" }, remove: ["env"] }, "remove"],
      ["PATCH", {}, "set"],
      // 31 new keys beside env: 32 in the body is allowed, 33 on the agent is not.
      ["PATCH", { set: Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`k${i}`, "v"])) }, "set"],
    ];
    for (const [method, body, field] of cases) {
      const res = await api(labelsPath(id!), { method, body });
      expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(res.body).toMatchObject({
        code_name: "INVALID_ARGS",
        data: { errors: expect.arrayContaining([expect.objectContaining({ path: expect.stringMatching(new RegExp(`^${field}`)) })]) },
      });
    }
    expect(await shownLabels(id!)).toEqual({ env: "prod" });
  });

  it("labels survive the heartbeat's polls, and a label write between a poll's read and its write loses neither", async () => {
    const ids = await watched(2);
    await api(labelsPath(ids[0]!), { method: "PUT", body: { labels: { env: "prod" } } });

    // The poll takes the pending agents to alive: its write must leave the labels alone.
    const hb = await testHeartbeat({}, { table: info.tables.fleet });
    hb.clock.now = Date.now() + 3456;
    await startPoll(hb.deps, hb.clock.now);
    const polled = await store.getAgent(ids[0]!, newFleetCalls());
    expect(polled).toMatchObject({ status: "alive", version: "2.1.5", labels: { env: "prod" } });

    // A poll's conditional write on the rev it read still lands after a label write in between.
    const read = await store.getAgent(ids[1]!, newFleetCalls());
    expect((await api(labelsPath(ids[1]!), { method: "PATCH", body: { set: { zone: "sz-1" } } })).status).toBe(200);
    const written = await store.updateAgent(read!, { version: "2.2.0", expires_at: null }, Date.now(), newFleetCalls());
    expect(written).toBe(true);
    expect(await store.getAgent(ids[1]!, newFleetCalls())).toMatchObject({ version: "2.2.0", rev: read!.rev + 1, labels: { zone: "sz-1" } });

    await api("/v1/fleet/agents/unregister", { method: "POST", body: { agent_id_list: ids } });
  });
});
