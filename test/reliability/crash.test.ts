/**
 * Crash consistency of the local stack as a whole: SIGKILL to every process of it (supervisor,
 * runtime, DynamoDB Local), then a restart on the same data directory. What was confirmed before
 * the crash must be there after it: our tables (DynamoDB Local's files) and GSE's own
 * configuration (the simulator's state file, as a real GSE keeps its own).
 */
import { BatchGetItemCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { localClientConfig } from "../../local/aws.ts";
import type { StackInfo } from "../../local/stack.ts";
import { spawnStack, type SpawnedStack } from "../helpers/spawn-stack.ts";
import { callApi, eventually, simulatorControl, uniqueBuiltInChannelId } from "../helpers/stack.ts";

const dataDir = mkdtempSync(join(tmpdir(), "gse-control-crash-"));
const started: SpawnedStack[] = [];
afterAll(async () => {
  for (const stack of started) await stack.stop("SIGKILL");
  rmSync(dataDir, { recursive: true, force: true });
});

async function start(): Promise<SpawnedStack> {
  const stack = await spawnStack(["--ports", "auto", "--random-secrets", "--data-dir", dataDir]);
  started.push(stack);
  return stack;
}

const auth = (info: StackInfo): Record<string, string> => ({
  "x-bkapi-authorization": JSON.stringify({ bk_app_code: info.credentials.caller.bk_app_code, bk_app_secret: info.credentials.caller.bk_app_secret }),
});

async function storedAgentIds(info: StackInfo, ids: readonly string[]): Promise<string[]> {
  const dynamo = new DynamoDBClient(localClientConfig(info.dynamodbEndpoint));
  try {
    const out = await dynamo.send(new BatchGetItemCommand({ RequestItems: { [info.tables.agents]: { Keys: ids.map((id) => ({ agent_id: { S: id } })), ConsistentRead: true } } }));
    return (out.Responses?.[info.tables.agents] ?? []).map((item) => item.agent_id?.S ?? "").sort();
  } finally {
    dynamo.destroy();
  }
}

describe("a crash of the whole local stack", () => {
  it("keeps what it had confirmed: agent items in our table and the route GSE accepted, after SIGKILL and a restart", { timeout: 180_000 }, async () => {
    const first = await start();
    const channelId = uniqueBuiltInChannelId();
    const route = [{ name: `crash_${channelId}`, stream_to: { stream_to_id: 501, kafka: { topic_name: `crash_${channelId}` } } }];
    const added = await callApi(first.info.gatewayUrl, "/api/v2/data/add_route", {
      method: "POST",
      headers: auth(first.info),
      body: { metadata: { channel_id: channelId, plat_name: "bkmonitor" }, operation: { operator_name: "admin" }, route },
    });
    expect(added.body).toMatchObject({ result: true, data: { channel_id: channelId } });

    const { agents } = (await simulatorControl(first.info, "GET", "agents?offset=0&limit=3")) as { agents: { legacy_id: string }[] };
    const ids = agents.map((a) => a.legacy_id).sort();
    const listed = await callApi(first.info.gatewayUrl, "/api/v2/cluster/list_agent_state", { method: "POST", headers: auth(first.info), body: { agent_id_list: ids } });
    expect(listed.status).toBe(200);
    await eventually("the write-back of the agents", async () => ((await storedAgentIds(first.info, ids)).length === ids.length ? true : undefined));

    expect(await first.stop("SIGKILL")).toBe("SIGKILL");

    const second = await start();
    expect(await storedAgentIds(second.info, ids)).toEqual(ids);
    const queried = await callApi(second.info.gatewayUrl, "/api/v2/data/query_route", {
      method: "POST",
      headers: auth(second.info),
      body: { condition: { channel_id: channelId, plat_name: "bkmonitor" }, operation: { operator_name: "admin" } },
    });
    expect(queried.body).toMatchObject({ result: true, data: [{ metadata: { channel_id: channelId }, route: [{ name: route[0]?.name }] }] });
    expect(await second.stop("SIGINT")).toBe(0);
  });
});
