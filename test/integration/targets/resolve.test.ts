/**
 * Targets by query over agents registered and polled through the local stack (its API gateway,
 * its fleet table, the GSE simulator): POST /v1/fleet/resolve and resolveTargets on the same table.
 * Every query names this file's own run label, so agents of other files never match.
 */
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { ValidationError } from "../../../lib/core/errors.ts";
import { FleetStore } from "../../../lib/fleet/store.ts";
import { startPoll } from "../../../lib/heartbeat/poll.ts";
import { resolveTargets } from "../../../lib/targets/resolve.ts";
import { addSimAgents, setSimStatus, testHeartbeat } from "../../helpers/heartbeat.ts";
import { callApi, reserveForRun, simulatorControl, useStack } from "../../helpers/stack.ts";

const { info, authHeader, dynamo } = useStack();
const api = (path: string, options: { method?: string; body?: unknown } = {}) =>
  callApi(info.gatewayUrl, path, {
    ...(options.method ? { method: options.method } : {}),
    ...(options.body !== undefined ? { body: options.body } : {}),
    headers: authHeader,
  });
const run = randomUUID().slice(0, 8);
const store = new FleetStore({ client: DynamoDBDocumentClient.from(dynamo), tableName: info.tables.fleet });

/** Agents of cloud 1 (addSimAgents makes cloud 0's), in a block reserved like addSimAgents' own. */
async function addCloudOneAgents(n: number, version: string): Promise<string[]> {
  let prefix: string;
  do prefix = `172.${16 + Math.floor(Math.random() * 16)}.${Math.floor(Math.random() * 256)}.`;
  while (!reserveForRun("test-agent-blocks", prefix));
  const agents = Array.from({ length: n }, (_, i) => ({ ip: `${prefix}${i + 1}`, bk_cloud_id: 1, version, status_code: 2, churn: false }));
  await simulatorControl(info, "POST", "agents", { agents });
  return agents.map((a) => `1:${a.ip}`);
}

type Preview = { count: number; agent_ids: string[]; truncated: boolean };
const preview = async (query: Record<string, unknown>): Promise<Preview> => {
  const res = await api("/v1/fleet/resolve", { method: "POST", body: { query: { ...query, labels: { run, ...(query.labels as object) } } } });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.data as Preview;
};

// old: cloud 0, 2.0.9, alive; new: cloud 0, 2.1.5, alive (one of them down: lost, class degraded); far: cloud 1, 2.1.5, alive.
const fleet = { old: [] as string[], fresh: [] as string[], far: [] as string[] };

beforeAll(async () => {
  fleet.old = (await addSimAgents(info, 2, { version: "2.0.9" })).ids;
  fleet.fresh = (await addSimAgents(info, 3, { version: "2.1.5" })).ids;
  fleet.far = await addCloudOneAgents(2, "2.1.5");
  await setSimStatus(info, [fleet.fresh[2]!], 3);
  const all = [...fleet.old, ...fleet.fresh, ...fleet.far];
  expect((await api("/v1/fleet/agents/register", { method: "POST", body: { agent_id_list: all } })).status).toBe(200);
  for (const id of all) {
    const labels = { run, env: fleet.far.includes(id) ? "staging" : "prod", ...(id === fleet.fresh[0] ? { canary: "yes" } : {}) };
    expect((await api(`/v1/fleet/agents/${encodeURIComponent(id)}/labels`, { method: "PUT", body: { labels } })).status).toBe(200);
  }
  const hb = await testHeartbeat({}, { table: info.tables.fleet });
  hb.clock.now = Date.now() + 4567;
  await startPoll(hb.deps, hb.clock.now);
});

const sorted = (ids: readonly string[]) => [...ids].sort();

describe("targets by query", () => {
  it("resolves by labels, all of them exactly", async () => {
    expect(await preview({})).toEqual({ count: 7, agent_ids: sorted([...fleet.old, ...fleet.fresh, ...fleet.far]), truncated: false });
    expect((await preview({ labels: { env: "prod" } })).agent_ids).toEqual(sorted([...fleet.old, ...fleet.fresh]));
    expect((await preview({ labels: { env: "prod", canary: "yes" } })).agent_ids).toEqual([fleet.fresh[0]]);
  });

  it("resolves by the version the heartbeat saw, as a semver range", async () => {
    expect((await preview({ version: "<2.1.0" })).agent_ids).toEqual(sorted(fleet.old));
    expect((await preview({ version: ">=2.1.0 <3", labels: { env: "prod" } })).agent_ids).toEqual(sorted(fleet.fresh));
  });

  it("resolves by status class, lost by the fleet's verdict", async () => {
    expect((await preview({ status_class: ["alive"] })).agent_ids).toEqual(sorted([...fleet.old, ...fleet.fresh.slice(0, 2), ...fleet.far]));
    expect((await preview({ status_class: ["degraded"] })).agent_ids).toEqual([fleet.fresh[2]]);
    expect((await preview({ status_class: ["lost"] })).agent_ids).toEqual([fleet.fresh[2]]);
  });

  it("resolves by cloud, and ANDs every field", async () => {
    expect((await preview({ bk_cloud_id: [1] })).agent_ids).toEqual(sorted(fleet.far));
    expect((await preview({ bk_cloud_id: [0, 1], version: ">=2.1", status_class: ["alive"], limit: 3 })).agent_ids).toEqual(
      sorted([...fleet.fresh.slice(0, 2), ...fleet.far]).slice(0, 3),
    );
  });

  it("resolveTargets reads the same table as the route", async () => {
    const resolved = await resolveTargets({ fleet: store }, { labels: { run, env: "staging" } });
    expect(resolved).toEqual({ agent_ids: sorted(fleet.far), query: { labels: { run, env: "staging" } } });
  });

  it("no match is a 400 on target_query; a bad query a 400 naming its field", async () => {
    const none = await api("/v1/fleet/resolve", { method: "POST", body: { query: { labels: { run, env: "nowhere" } } } });
    expect(none.status).toBe(400);
    expect(none.body).toMatchObject({ code_name: "INVALID_ARGS", message: "no agents match target_query", data: { errors: [{ path: "target_query" }] } });
    await expect(resolveTargets({ fleet: store }, { labels: { run, env: "nowhere" } })).rejects.toBeInstanceOf(ValidationError);
    const bad = await api("/v1/fleet/resolve", { method: "POST", body: { query: { version: "two", labels: { run } } } });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ data: { errors: [expect.objectContaining({ path: "query.version" })] } });
  });
});
