import { BatchGetCommand, DynamoDBDocumentClient, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { randomBytes, randomInt } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { MAX_AGENTS_PER_REQUEST } from "../../../lib/gse/schemas.ts";
import { OPERATIONS, pathVariants } from "../../../lib/gse/operations.ts";
import { DynamoAgentStore, newStoreCalls, type AgentItem } from "../../../lib/agent-state/store.ts";
import { agentKey } from "../../../lib/fleet/table.ts";
import { callApi, eventually, logLines, simulatorControl, useStack, withFaults, type ApiResponse } from "../../helpers/stack.ts";

const { info, dynamo, authHeader } = useStack();
const doc = DynamoDBDocumentClient.from(dynamo);
afterAll(() => dynamo.destroy());

const LIST = "/api/v2/cluster/list_agent_state";
const ESB = "/api/c/compapi/v2/gse/get_agent_status/";
/** Past the stack's TTL (default 300 s) by a margin. */
const STALE_BY_MS = 400_000;

// Agents of this file only: 10.24x.y.z, a block no other test file or generated agent uses.
const block = `10.${240 + randomInt(10)}.${randomInt(256)}`;
let nextHost = 1;

interface TestAgent {
  readonly ip: string;
  readonly legacy: string;
  readonly modern: string;
}

async function addAgents(statuses: readonly number[]): Promise<TestAgent[]> {
  const agents = statuses.map((status_code) => {
    if (nextHost > 254) throw new Error("this file ran out of addresses in its block");
    const ip = `${block}.${nextHost++}`;
    return { ip, legacy: `0:${ip}`, modern: `02ag${randomBytes(16).toString("hex")}`, status_code };
  });
  await simulatorControl(info, "POST", "agents", {
    agents: agents.map((a) => ({ ip: a.ip, bk_agent_id: a.modern, version: "2.1.5", run_mode: 1, status_code: a.status_code })),
  });
  return agents.map(({ ip, legacy, modern }) => ({ ip, legacy, modern }));
}

/** An id nobody registered, in this file's block. */
const unknownId = (): string => `0:${block}.${nextHost++}`;

/** The id as it appears in a GSE request body, quoted, so "…1" never matches "…10". */
const quoted = (text: string): string => JSON.stringify(text);

/** A fault that fails any GSE call mentioning `id`, without retries (a business error). */
const failGseFor = (id: string, operation: "list_agent_state" | "get_agent_status" = "list_agent_state") => ({
  kind: "business_error",
  operation,
  code: 1099999,
  message: "GSE should not have been asked",
  match: quoted(id),
});

const listState = (ids: readonly string[], headers: Record<string, string> = {}, path = LIST): Promise<ApiResponse> =>
  callApi(info.gatewayUrl, path, { method: "POST", headers: { ...authHeader, ...headers }, body: { agent_id_list: ids, bk_username: "admin" } });

const agentStatus = (hosts: readonly { ip: string; bk_cloud_id: number }[], headers: Record<string, string> = {}, path = ESB): Promise<ApiResponse> =>
  callApi(info.gatewayUrl, path, { method: "POST", headers: { ...authHeader, ...headers }, body: { bk_supplier_account: "0", hosts } });

async function readItems(ids: readonly string[]): Promise<Map<string, AgentItem>> {
  const out = await doc.send(
    new BatchGetCommand({ RequestItems: { [info.tables.agents]: { Keys: ids.map((agent_id) => ({ agent_id })), ConsistentRead: true } } }),
  );
  return new Map((out.Responses?.[info.tables.agents] ?? []).map((item) => [String(item.agent_id), item as AgentItem]));
}

/**
 * The items of `ids` once the automation function has written what GSE said at or after `since`:
 * lookups hand their write-back to the queue and answer before it lands.
 */
async function writtenBehind(ids: readonly string[], since: number): Promise<Map<string, AgentItem>> {
  return eventually(`the write-back of ${ids.join(", ")}`, async () => {
    const items = await readItems(ids);
    return ids.every((id) => (items.get(id)?.fetched_at ?? 0) >= since) ? items : undefined;
  });
}

/**
 * Takes agents the write-back registered with the fleet off it again. The cache tests are about
 * agents the fleet does not watch: the stack's own heartbeat polls every minute, and once it has
 * polled a watched agent the fleet answers for it (lib/agent-state/fleet-state.ts), which would
 * make these tests depend on when that poll falls. Registration follows the cache write, so wait for it.
 */
async function unwatch(ids: readonly string[]): Promise<void> {
  await eventually(`the fleet registration of ${ids.join(", ")}`, async () => {
    const out = await doc.send(new BatchGetCommand({ RequestItems: { [info.tables.fleet]: { Keys: ids.map(agentKey), ConsistentRead: true } } }));
    return (out.Responses?.[info.tables.fleet] ?? []).length === ids.length ? true : undefined;
  });
  const res = await callApi(info.gatewayUrl, "/v1/fleet/agents/unregister", { method: "POST", headers: authHeader, body: { agent_id_list: ids } });
  expect(res.status).toBe(200);
}

/** Moves an item's confirmation time into the past, as if the TTL had gone by. */
async function makeStale(id: string): Promise<number> {
  const fetchedAt = Date.now() - STALE_BY_MS;
  await doc.send(
    new UpdateCommand({
      TableName: info.tables.agents,
      Key: { agent_id: id },
      UpdateExpression: "SET fetched_at = :f, changed_at = :f",
      ExpressionAttributeValues: { ":f": fetchedAt },
    }),
  );
  return fetchedAt;
}

const statusOf = (res: ApiResponse, id: string): number | undefined =>
  (res.body.data as { bk_agent_id: string; status_code: number }[]).find((a) => a.bk_agent_id === id)?.status_code;

async function faultStillArmed(id: string): Promise<boolean> {
  const { faults } = (await simulatorControl(info, "GET", "faults")) as { faults: { spec: { match?: string } }[] };
  return faults.some((f) => f.spec.match === quoted(id));
}

describe("list_agent_state through the agent state cache", () => {
  it("answers GSE's shape in the order asked, echoing each id, and omits unknown ids", async () => {
    const [a, b] = await addAgents([2, 4]);
    if (!a || !b) throw new Error("agents not added");
    const missing = unknownId();
    const startedAt = Date.now();
    const res = await listState([b.modern, missing, a.legacy, b.modern]);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ result: true, code: 0 });
    expect(res.body.data).toEqual([
      { bk_agent_id: b.modern, bk_cloud_id: 0, version: "2.1.5", run_mode: 1, status_code: 4 },
      { bk_agent_id: a.legacy, bk_cloud_id: 0, version: "2.1.5", run_mode: 1, status_code: 2 },
    ]);
    const items = await writtenBehind([a.legacy, b.modern, missing], startedAt);
    expect(items.get(a.legacy)).toMatchObject({
      known: true,
      source: "list_agent_state",
      status_code: 2,
      alive: true,
      bk_cloud_id: 0,
      version: "2.1.5",
      run_mode: 1,
    });
    expect(items.get(b.modern)).toMatchObject({ known: true, status_code: 4, alive: false });
    expect(items.get(missing)).toMatchObject({ known: false, alive: false });
    expect(items.get(missing)).not.toHaveProperty("status_code");
    const item = items.get(a.legacy);
    expect(item?.fetched_at).toBe(item?.changed_at);
    // TTL about 30 days after the fetch, in epoch seconds.
    expect(item?.expires_at).toBeGreaterThan(Date.now() / 1000 + 29 * 86_400);
    expect(item?.expires_at).toBeLessThan(Date.now() / 1000 + 31 * 86_400);
  });

  it("answers before the cache is written, and the automation function writes it from the queue", async () => {
    const agents = await addAgents([2, 4, 2]);
    const ids = agents.map((a) => a.legacy);
    const requestId = `write-behind-${randomBytes(6).toString("hex")}`;
    const startedAt = Date.now();
    const res = await listState(ids, { "x-request-id": requestId });
    expect(res.status).toBe(200);
    const lookup = await eventually("the lookup's log line", () =>
      logLines(info, "runtime")
        .map((line) => JSON.parse(line) as { message?: string; request_id?: string; [key: string]: unknown })
        .find((line) => line.message === "agent state lookup" && line.request_id === requestId),
    );
    expect(lookup).toMatchObject({ fetched: 3, queued: 3, written: 0, renewed: 0, dynamo_calls: { batchWrite: 0, batchStatement: 0 } });
    const items = await writtenBehind(ids, startedAt);
    expect(items.get(agents[1]?.legacy ?? "")).toMatchObject({ known: true, status_code: 4, alive: false });
  });

  it("hands agents it meets for the first time to the fleet registry, and not ids GSE does not know", async () => {
    const [agent] = await addAgents([2]);
    if (!agent) throw new Error("agent not added");
    const missing = unknownId();
    const startedAt = Date.now();
    await listState([agent.modern, missing]);
    await writtenBehind([agent.modern, missing], startedAt);
    const history = (id: string) => callApi(info.gatewayUrl, `/v1/fleet/agents/${encodeURIComponent(id)}/history`, { headers: authHeader });
    const watched = await eventually("the agent in the fleet registry", async () => {
      const res = await history(agent.modern);
      return res.status === 200 ? res : undefined;
    });
    expect(watched.body.data).toMatchObject({ agent: { agent_id: agent.modern, sources: ["route"] } });
    expect((await history(missing)).status).toBe(404);
  });

  it("answers a second call within the TTL from the table, without asking GSE", async () => {
    const agents = await addAgents([2, 3]);
    const ids = agents.map((a) => a.legacy);
    const filledAt = Date.now();
    const first = await listState(ids);
    expect(first.status).toBe(200);
    await writtenBehind(ids, filledAt);
    const second = await withFaults(
      info,
      ids.map((id) => failGseFor(id)),
      () => listState(ids),
    );
    expect(second.status).toBe(200);
    expect(second.body.data).toEqual(first.body.data);
  });

  it("goes to GSE for Cache-Control: no-cache, and writes the answer back", async () => {
    const [agent] = await addAgents([2]);
    if (!agent) throw new Error("agent not added");
    const firstAt = Date.now();
    await listState([agent.legacy]);
    const before = (await writtenBehind([agent.legacy], firstAt)).get(agent.legacy);
    await unwatch([agent.legacy]);

    const refused = await withFaults(info, [failGseFor(agent.legacy)], () => listState([agent.legacy], { "Cache-Control": "no-cache" }));
    expect(refused.body).toMatchObject({ result: false, code: 1099999 });

    await simulatorControl(info, "POST", "agents/status", { ids: [agent.legacy], status_code: 5 });
    expect(statusOf(await listState([agent.legacy]), agent.legacy)).toBe(2);
    const directAt = Date.now();
    expect(statusOf(await listState([agent.legacy], { "cache-control": "max-age=0, No-Cache" }), agent.legacy)).toBe(5);
    const after = (await writtenBehind([agent.legacy], directAt)).get(agent.legacy);
    expect(after).toMatchObject({ status_code: 5, alive: false });
    expect(after?.changed_at).toBeGreaterThan(before?.changed_at ?? Infinity);
    expect(statusOf(await listState([agent.legacy]), agent.legacy)).toBe(5);
  });

  it("refreshes only stale ids: a changed agent is rewritten, an unchanged one only renewed", async () => {
    const [same, moving, fresh] = await addAgents([2, 2, 2]);
    if (!same || !moving || !fresh) throw new Error("agents not added");
    const ids = [same.legacy, moving.legacy, fresh.legacy];
    const filledAt = Date.now();
    await listState(ids);
    await writtenBehind(ids, filledAt);
    await unwatch(ids);
    const staleSince = await makeStale(same.legacy);
    await makeStale(moving.legacy);
    await simulatorControl(info, "POST", "agents/status", { ids: [moving.legacy], status_code: 3 });

    const startedAt = Date.now();
    // The fresh id must not reach GSE; the two stale ones must.
    const res = await withFaults(info, [failGseFor(fresh.legacy)], () => listState(ids));
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual(
      ids.map((id) => ({ bk_agent_id: id, bk_cloud_id: 0, version: "2.1.5", run_mode: 1, status_code: id === moving.legacy ? 3 : 2 })),
    );

    const items = await writtenBehind([same.legacy, moving.legacy], startedAt);
    expect(items.get(same.legacy)?.fetched_at).toBeGreaterThanOrEqual(startedAt);
    expect(items.get(same.legacy)?.changed_at).toBe(staleSince);
    expect(items.get(moving.legacy)).toMatchObject({ status_code: 3, alive: false });
    expect(items.get(moving.legacy)?.changed_at).toBeGreaterThanOrEqual(startedAt);
    expect((await readItems([fresh.legacy])).get(fresh.legacy)?.fetched_at).toBeLessThan(startedAt);
  });

  it("remembers ids GSE does not know, so repeating the call does not ask GSE for them", async () => {
    const [known] = await addAgents([2]);
    if (!known) throw new Error("agent not added");
    const missing = unknownId();
    const filledAt = Date.now();
    await listState([known.legacy, missing]);
    await writtenBehind([known.legacy, missing], filledAt);
    const res = await withFaults(info, [failGseFor(missing)], () => listState([missing, known.legacy]));
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual([{ bk_agent_id: known.legacy, bk_cloud_id: 0, version: "2.1.5", run_mode: 1, status_code: 2 }]);
  });

  it("answers 1011003 as GSE does when none of the ids is known, also from the cache", async () => {
    const ids = [unknownId(), unknownId()];
    const filledAt = Date.now();
    const first = await listState(ids);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ result: false, code: 1011003, data: null });
    await writtenBehind(ids, filledAt);
    const second = await withFaults(
      info,
      ids.map((id) => failGseFor(id)),
      () => listState(ids),
    );
    expect(second.body).toMatchObject({ result: false, code: 1011003 });
  });

  it("shows a status change once the cached state is stale", async () => {
    const [agent] = await addAgents([2]);
    if (!agent) throw new Error("agent not added");
    const filledAt = Date.now();
    expect(statusOf(await listState([agent.modern]), agent.modern)).toBe(2);
    await writtenBehind([agent.modern], filledAt);
    await unwatch([agent.modern]);
    await simulatorControl(info, "POST", "agents/status", { ids: [agent.modern], status_code: 6 });
    expect(statusOf(await listState([agent.modern]), agent.modern)).toBe(2);
    await makeStale(agent.modern);
    expect(statusOf(await listState([agent.modern]), agent.modern)).toBe(6);
  });

  it("retries a GSE 5xx for the read and still answers", async () => {
    const [agent] = await addAgents([2]);
    if (!agent) throw new Error("agent not added");
    const res = await withFaults(
      info,
      [{ kind: "http_error", status: 502, count: 1, operation: "list_agent_state", match: quoted(agent.legacy) }],
      async () => {
        const answer = await listState([agent.legacy]);
        // The one-shot fault was used up by the first attempt.
        expect(await faultStillArmed(agent.legacy)).toBe(false);
        return answer;
      },
    );
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual([{ bk_agent_id: agent.legacy, bk_cloud_id: 0, version: "2.1.5", run_mode: 1, status_code: 2 }]);
  });

  it("answers GSE's own error when GSE keeps failing, and caches nothing for those ids", async () => {
    const [agent] = await addAgents([2]);
    if (!agent) throw new Error("agent not added");
    const res = await withFaults(info, [failGseFor(agent.legacy)], () => listState([agent.legacy]));
    expect(res.body).toMatchObject({ result: false, code: 1099999 });
    // A later lookup's write-back landing shows the queue has moved past anything of the failed one.
    const [marker] = await addAgents([2]);
    if (!marker) throw new Error("agent not added");
    const markerAt = Date.now();
    await listState([marker.legacy]);
    await writtenBehind([marker.legacy], markerAt);
    expect((await readItems([agent.legacy])).size).toBe(0);
  });

  it.each(pathVariants(OPERATIONS.list_agent_state))("answers on %s", async (path) => {
    const [agent] = await addAgents([2]);
    if (!agent) throw new Error("agent not added");
    const res = await listState([agent.legacy], {}, path);
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual([{ bk_agent_id: agent.legacy, bk_cloud_id: 0, version: "2.1.5", run_mode: 1, status_code: 2 }]);
  });
});

describe("get_agent_status through the same cache", () => {
  it.each(pathVariants(OPERATIONS.get_agent_status))("answers the legacy shape for every host on %s", async (path) => {
    const [up, down] = await addAgents([2, 4]);
    if (!up || !down) throw new Error("agents not added");
    const ghost = { ip: `${block}.${nextHost++}`, bk_cloud_id: 0 };
    const hosts = [{ ip: up.ip, bk_cloud_id: 0 }, { ip: down.ip, bk_cloud_id: 0 }, ghost];
    const filledAt = Date.now();
    const res = await agentStatus(hosts, {}, path);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ result: true, code: 0 });
    expect(res.body.data).toEqual({
      [up.legacy]: { ip: up.ip, bk_cloud_id: 0, bk_agent_alive: 1 },
      [down.legacy]: { ip: down.ip, bk_cloud_id: 0, bk_agent_alive: 0 },
      [`0:${ghost.ip}`]: { ip: ghost.ip, bk_cloud_id: 0, bk_agent_alive: 0 },
    });
    // Filled by list_agent_state (the stack's default switch), so our list_agent_state route reuses it.
    await writtenBehind([up.legacy], filledAt);
    const cached = await withFaults(info, [failGseFor(up.legacy), failGseFor(up.ip, "get_agent_status")], () => listState([up.legacy]));
    expect(cached.body.data).toEqual([{ bk_agent_id: up.legacy, bk_cloud_id: 0, version: "2.1.5", run_mode: 1, status_code: 2 }]);
  });

  it("answers from the cache within the TTL and from GSE with no-cache", async () => {
    const [agent] = await addAgents([2]);
    if (!agent) throw new Error("agent not added");
    const hosts = [{ ip: agent.ip, bk_cloud_id: 0 }];
    const filledAt = Date.now();
    await agentStatus(hosts);
    await writtenBehind([agent.legacy], filledAt);
    await simulatorControl(info, "POST", "agents/status", { ids: [agent.legacy], status_code: 1 });
    const cached = await withFaults(info, [failGseFor(agent.legacy)], () => agentStatus(hosts));
    expect(cached.body.data).toEqual({ [agent.legacy]: { ip: agent.ip, bk_cloud_id: 0, bk_agent_alive: 1 } });
    const direct = await agentStatus(hosts, { "cache-control": "no-cache" });
    expect(direct.body.data).toEqual({ [agent.legacy]: { ip: agent.ip, bk_cloud_id: 0, bk_agent_alive: 0 } });
  });

  it("answers {} for an empty hosts list without asking GSE", async () => {
    const res = await agentStatus([]);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ result: true, data: {} });
  });
});

describe("bad input", () => {
  const many = (): string[] => Array.from({ length: MAX_AGENTS_PER_REQUEST + 1 }, (_, i) => `9:${block}.${i}`);

  it.each<[string, () => { agent_id_list?: unknown; bk_username?: string }, string]>([
    ["an empty agent_id_list", () => ({ agent_id_list: [] }), "agent_id_list"],
    ["no agent_id_list", () => ({ bk_username: "admin" }), "agent_id_list"],
    ["a string for agent_id_list", () => ({ agent_id_list: "0:10.0.0.1" }), "agent_id_list"],
    ["a non-string id", () => ({ agent_id_list: [unknownId(), 42] }), "agent_id_list.1"],
    ["an empty id", () => ({ agent_id_list: [unknownId(), ""] }), "agent_id_list.1"],
    ["an id that is no GSE agent id", () => ({ agent_id_list: [unknownId(), "0:10.0.0.999"] }), "agent_id_list.1"],
    ["an id with a space", () => ({ agent_id_list: [unknownId(), "02agent one"] }), "agent_id_list.1"],
    [`more than ${MAX_AGENTS_PER_REQUEST} ids`, () => ({ agent_id_list: many() }), "agent_id_list"],
  ])("refuses %s with 400 naming the field, without asking GSE or writing", async (_label, body, field) => {
    const payload = body();
    const list: unknown[] = Array.isArray(payload.agent_id_list) ? payload.agent_id_list : [];
    const ids = list.filter((id): id is string => typeof id === "string" && id !== "");
    // A one-shot fault per id: still armed afterwards = GSE never saw a body with that id.
    const probes = ids.slice(0, 1).map((id) => ({ ...failGseFor(id), count: 1 }));
    const res = await withFaults(info, probes, async () => {
      const answer = await callApi(info.gatewayUrl, LIST, { method: "POST", headers: authHeader, body: payload });
      for (const id of ids.slice(0, 1)) expect(await faultStillArmed(id)).toBe(true);
      return answer;
    });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ result: false, code: 1640001, code_name: "INVALID_ARGS" });
    expect((res.body.data as { errors: { path: string }[] }).errors.map((e) => e.path)).toContain(field);
    if (ids.length) expect((await readItems(ids.slice(0, 100))).size).toBe(0);
  });

  it.each([
    ["a host without bk_cloud_id", { hosts: [{ ip: "10.249.0.1" }] }, "hosts.0.bk_cloud_id"],
    ["a numeric ip", { hosts: [{ ip: 5, bk_cloud_id: 0 }] }, "hosts.0.ip"],
    ["no hosts", {}, "hosts"],
  ])("refuses a get_agent_status body with %s", async (_label, body, field) => {
    const res = await callApi(info.gatewayUrl, ESB, { method: "POST", headers: authHeader, body });
    expect(res.status).toBe(400);
    expect((res.body.data as { errors: { path: string }[] }).errors.map((e) => e.path)).toContain(field);
  });
});

describe("DynamoAgentStore against DynamoDB Local", () => {
  const store = new DynamoAgentStore({ client: doc, tableName: info.tables.agents });
  const item = (agent_id: string, fetched_at: number): AgentItem => ({
    agent_id,
    known: true,
    source: "list_agent_state",
    bk_cloud_id: 0,
    version: "2.1.5",
    run_mode: 1,
    status_code: 2,
    alive: true,
    fetched_at,
    changed_at: fetched_at,
    expires_at: Math.floor(fetched_at / 1000) + 86_400,
  });

  it("reads and writes more than one batch's worth, counting its calls", async () => {
    const ids = Array.from({ length: 230 }, (_, i) => `store-${block}-${i}-${randomBytes(4).toString("hex")}`);
    const calls = newStoreCalls();
    expect(
      await store.putMany(
        ids.map((id) => item(id, 1000)),
        calls,
      ),
    ).toEqual({ failed: 0 });
    const found = await store.getMany([...ids, "store-never-written"], calls);
    expect(found.size).toBe(230);
    expect(found.get(ids[229] ?? "")).toMatchObject({ known: true, fetched_at: 1000 });
    expect(calls).toEqual({ batchWrite: 10, batchGet: 3, batchStatement: 0 });
  });

  it("renews only items still as they were read, and never recreates a missing one", async () => {
    const [kept, changed, missing] = ["kept", "changed", "missing"].map((n) => `store-${n}-${randomBytes(6).toString("hex")}`) as [string, string, string];
    await doc.send(new PutCommand({ TableName: info.tables.agents, Item: { ...item(kept, 1000), foreign: "kept" } }));
    await doc.send(new PutCommand({ TableName: info.tables.agents, Item: item(changed, 2000) }));
    const calls = newStoreCalls();
    const result = await store.renewMany(
      [kept, changed, missing].map((agent_id) => ({ agent_id, seen_fetched_at: 1000, fetched_at: 5000, expires_at: 99 })),
      calls,
    );
    expect(result).toEqual({ renewed: 1, conflicts: 2, failed: 0 });
    expect(calls.batchStatement).toBe(1);
    const items = await readItems([kept, changed, missing]);
    expect(items.get(kept)).toMatchObject({ fetched_at: 5000, expires_at: 99, changed_at: 1000, foreign: "kept", status_code: 2 });
    expect(items.get(changed)).toMatchObject({ fetched_at: 2000 });
    expect(items.has(missing)).toBe(false);
  });
});
