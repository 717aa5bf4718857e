/**
 * list_agent_state and get_agent_status for agents the stack's fleet watches: answered from the
 * heartbeat's state in the fleet table while their partition's poll is fresh, through the
 * deployed handlers and DynamoDB Local. The poll here is the heartbeat's own (startPoll) over the
 * stack's fleet table, at real time, so the functions judge it as they would a scheduled one.
 */
import { BatchGetCommand, DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { registerAgents } from "../../../lib/fleet/service.ts";
import { runShard, startPoll } from "../../../lib/heartbeat/poll.ts";
import { addSimAgents, testHeartbeat } from "../../helpers/heartbeat.ts";
import { callApi, eventually, logLines, simulatorCounters, useStack, type ApiResponse } from "../../helpers/stack.ts";

const { info, dynamo, authHeader } = useStack();
const doc = DynamoDBDocumentClient.from(dynamo);
afterAll(() => dynamo.destroy());

const LIST = "/api/v2/cluster/list_agent_state";
const ESB = "/api/c/compapi/v2/gse/get_agent_status/";

interface LookupLine {
  message?: string;
  request_id?: string;
  [key: string]: unknown;
}

async function call(path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ res: ApiResponse; lookup: LookupLine }> {
  const requestId = `fleet-${randomBytes(6).toString("hex")}`;
  const res = await callApi(info.gatewayUrl, path, { method: "POST", headers: { ...authHeader, "x-request-id": requestId, ...headers }, body });
  const lookup = await eventually("the lookup's log line", () =>
    logLines(info, "runtime")
      .map((line) => JSON.parse(line) as LookupLine)
      .find((line) => line.message === "agent state lookup" && line.request_id === requestId),
  );
  return { res, lookup };
}

const gseCalls = async (): Promise<number> => {
  const { calls } = await simulatorCounters(info);
  return (calls.list_agent_state ?? 0) + (calls.get_agent_status ?? 0);
};

/** Watches `ids` in the stack's fleet and polls the whole fleet now, every shard in this process. */
async function watchAndPoll(ids: readonly string[]): Promise<void> {
  const heartbeat = await testHeartbeat({ budgetMs: 60_000 }, { table: info.tables.fleet });
  heartbeat.clock.now = Date.now();
  await registerAgents({ store: heartbeat.store, now: Date.now, settings: { evictAfterSeconds: 86_400 } }, ids, "api");
  const deps = { ...heartbeat.deps, now: Date.now };
  await startPoll(deps, Date.now());
  for (const job of heartbeat.queued) await runShard(deps, job);
}

async function cacheItems(ids: readonly string[]): Promise<number> {
  const out = await doc.send(
    new BatchGetCommand({ RequestItems: { [info.tables.agents]: { Keys: ids.map((agent_id) => ({ agent_id })), ConsistentRead: true } } }),
  );
  return out.Responses?.[info.tables.agents]?.length ?? 0;
}

describe("agents the fleet watches", () => {
  it("are answered from the fleet after a fresh poll: no GSE call, no cache write, the same answer as GSE's", async () => {
    const { ids } = await addSimAgents(info, 3, { version: "2.1.7", status_code: 2 });
    await watchAndPoll(ids);

    const before = await gseCalls();
    const fromFleet = await call(LIST, { agent_id_list: ids, bk_username: "admin" });
    expect(await gseCalls()).toBe(before);
    expect(fromFleet.res.status).toBe(200);
    expect(fromFleet.lookup).toMatchObject({ fleet: 3, fetched: 0, gse_calls: 0, queued: 0 });

    const fromGse = await call(LIST, { agent_id_list: ids, bk_username: "admin" }, { "cache-control": "no-cache" });
    expect(await gseCalls()).toBe(before + 1);
    expect(fromGse.lookup).toMatchObject({ fetched: 3, fleet_held: 3, queued: 0 });
    expect(fromFleet.res.body.data).toEqual(fromGse.res.body.data);
    expect(await cacheItems(ids)).toBe(0);
  });

  it("answers get_agent_status's legacy shape from the fleet too", async () => {
    const { ids } = await addSimAgents(info, 2, { status_code: 3 });
    await watchAndPoll(ids);
    const hosts = ids.map((id) => ({ bk_cloud_id: Number(id.split(":")[0]), ip: id.slice(id.indexOf(":") + 1) }));
    const before = await gseCalls();
    const { res, lookup } = await call(ESB, { bk_supplier_account: "0", hosts });
    expect(await gseCalls()).toBe(before);
    expect(lookup).toMatchObject({ fleet: 2, fetched: 0 });
    expect(res.body.data).toEqual(Object.fromEntries(hosts.map((h) => [`${h.bk_cloud_id}:${h.ip}`, { ...h, bk_agent_alive: 0 }])));
  });
});
