/**
 * Crash consistency of the local stack as a whole: SIGKILL to every process of it (supervisor,
 * runtime, DynamoDB Local), then a restart on the same data directory. What was confirmed before
 * the crash must be there after it: our tables (DynamoDB Local's files) and GSE's own
 * configuration (the simulator's state file, as a real GSE keeps its own). A change caught
 * between GSE's yes and our record of it is finished by the reconcile after the restart.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { BatchGetItemCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { request } from "undici";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { ConfigAlert } from "../../lib/config-versions/alerts.ts";
import { reconcileHead, type ReconcileDeps } from "../../lib/config-versions/reconcile.ts";
import type { ConfigStore } from "../../lib/config-versions/store.ts";
import { GseClient } from "../../lib/gse/client.ts";
import { localClientConfig } from "../../local/aws.ts";
import type { StackInfo } from "../../local/stack.ts";
import { spawnStack, type SpawnedStack } from "../helpers/spawn-stack.ts";
import { configStore, route as routeRef } from "../helpers/configs.ts";
import { callApi, eventually, logLines, simulatorControl, simulatorCounters, uniqueBuiltInChannelId, testGseConfig } from "../helpers/stack.ts";

const dataDir = mkdtempSync(join(tmpdir(), "gse-control-crash-"));
const started: SpawnedStack[] = [];
afterAll(async () => {
  for (const stack of started) await stack.stop("SIGKILL");
  // GSE_CONTROL_KEEP_STACK_DATA=1 keeps the stacks' data and logs for a look after a failed run.
  if (process.env.GSE_CONTROL_KEEP_STACK_DATA) process.stderr.write(`crash test data kept in ${dataDir}\n`);
  else rmSync(dataDir, { recursive: true, force: true });
});

async function start(): Promise<SpawnedStack> {
  // GSE calls wait up to a minute here: a read-back held by a fault must still hang when the stack
  // is killed, however slow the machine is between the fault and the kill.
  const stack = await spawnStack(["--ports", "auto", "--random-secrets", "--data-dir", dataDir], { env: { GSE_TIMEOUT_MS: "60000" } });
  started.push(stack);
  return stack;
}

const auth = (info: StackInfo): Record<string, string> => ({
  "x-bkapi-authorization": JSON.stringify({ bk_app_code: info.credentials.caller.bk_app_code, bk_app_secret: info.credentials.caller.bk_app_secret }),
});

async function storedAgentIds(info: StackInfo, ids: readonly string[]): Promise<string[]> {
  const dynamo = new DynamoDBClient(localClientConfig(info.dynamodbEndpoint));
  try {
    const out = await dynamo.send(
      new BatchGetItemCommand({ RequestItems: { [info.tables.agents]: { Keys: ids.map((id) => ({ agent_id: { S: id } })), ConsistentRead: true } } }),
    );
    return (out.Responses?.[info.tables.agents] ?? []).map((item) => item.agent_id?.S ?? "").sort();
  } finally {
    dynamo.destroy();
  }
}

/**
 * What the scheduled reconcile sees once the pending timeout (300 s by default) has passed, run
 * from here against a restarted stack; its alerts are collected in `alerts`.
 */
function reconcileAfterTimeout(info: StackInfo, store: ConfigStore, alerts: ConfigAlert[]): ReconcileDeps {
  const gse = new GseClient({
    gse: testGseConfig(info, { timeoutMs: 5000, maxAttempts: 2 }),
  });
  const later = Date.now() + 301_000;
  return {
    gse,
    store,
    logger: new Logger({ logLevel: "SILENT" }),
    now: () => later,
    operator: "admin",
    alerts: { publish: async (a) => void alerts.push(a) },
    settings: { pendingTimeoutSeconds: 300, driftRepair: false },
  };
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
    const listed = await callApi(first.info.gatewayUrl, "/api/v2/cluster/list_agent_state", {
      method: "POST",
      headers: auth(first.info),
      body: { agent_id_list: ids },
    });
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

  it("finishes a config change killed between GSE's success and the head move: the reconcile finds it applied", { timeout: 180_000 }, async () => {
    const first = await start();
    const channelId = uniqueBuiltInChannelId();
    const routeOf = (n: number) => ({ name: `crash_${channelId}_${n}`, stream_to: { stream_to_id: 501, kafka: { topic_name: `crash_${channelId}_${n}` } } });
    const body = (n: number) => ({
      condition: { channel_id: channelId, plat_name: "bkmonitor" },
      operation: { operator_name: "admin" },
      specification: { route: [routeOf(n)] },
    });
    const added = await callApi(first.info.gatewayUrl, "/api/v2/data/add_route", {
      method: "POST",
      headers: auth(first.info),
      body: { metadata: { channel_id: channelId, plat_name: "bkmonitor" }, operation: { operator_name: "admin" }, route: [routeOf(1)] },
    });
    expect(added.body).toMatchObject({ result: true });

    // GSE applies the update, then the read-back that would verify it hangs: the function is
    // between GSE's success and its own record of it when the whole stack is killed.
    await simulatorControl(first.info, "POST", "faults/add", {
      faults: [{ kind: "latency", operation: "query_route", latencyMs: 60_000, match: `"channel_id":${channelId}` }],
    });
    const appliedBefore = (await simulatorCounters(first.info)).applied.update_route ?? 0;
    const inFlight = request(`${first.info.gatewayUrl}/api/v2/data/update_route`, {
      method: "POST",
      headers: { "content-type": "application/json", ...auth(first.info) },
      body: JSON.stringify(body(2)),
    }).catch(() => undefined);
    await eventually("GSE to apply the update", async () => ((await simulatorCounters(first.info)).applied.update_route ?? 0) > appliedBefore || undefined);
    expect(await first.stop("SIGKILL")).toBe("SIGKILL");
    await inFlight;

    const second = await start();
    const dynamo = new DynamoDBClient(localClientConfig(second.info.dynamodbEndpoint));
    try {
      const store = configStore(second.info, dynamo);
      const stuck = await store.getHead(routeRef(channelId));
      expect(stuck).toMatchObject({ current_version: 1, pending_version: 2 });
      expect(await store.getVersion(routeRef(channelId), 2)).toMatchObject({ status: "PENDING" });
      if (!stuck) return;

      const alerts: ConfigAlert[] = [];
      await reconcileHead(reconcileAfterTimeout(second.info, store, alerts), stuck);
      expect(await store.getHead(routeRef(channelId))).toMatchObject({ current_version: 2, last_good_version: 2 });
      expect((await store.getHead(routeRef(channelId)))?.pending_version).toBeUndefined();
      expect(await store.getVersion(routeRef(channelId), 2)).toMatchObject({ status: "APPLIED" });
      expect(alerts).toEqual([]);
      // Applied once: GSE holds both routes (update_route upserts), no third write happened.
      const held = await callApi(second.info.gatewayUrl, "/api/v2/data/query_route", {
        method: "POST",
        headers: auth(second.info),
        body: { condition: { channel_id: channelId, plat_name: "bkmonitor" }, operation: { operator_name: "admin" } },
      });
      expect((held.body.data as { route: { name: string }[] }[])[0]?.route.map((r) => r.name).sort()).toEqual([routeOf(1).name, routeOf(2).name].sort());
      expect((await simulatorCounters(second.info)).applied.update_route ?? 0).toBe(0);
    } finally {
      dynamo.destroy();
      await second.stop("SIGINT");
    }
  });

  it("finishes a rollback killed in the middle of its stream batch: after a restart the reconcile rolls back, with one alert", {
    timeout: 180_000,
  }, async () => {
    const first = await start();
    const channelId = uniqueBuiltInChannelId();
    const routeOf = (n: number) => ({ name: `crash_${channelId}_${n}`, stream_to: { stream_to_id: 501, kafka: { topic_name: `crash_${channelId}_${n}` } } });
    const added = await callApi(first.info.gatewayUrl, "/api/v2/data/add_route", {
      method: "POST",
      headers: auth(first.info),
      body: { metadata: { channel_id: channelId, plat_name: "bkmonitor" }, operation: { operator_name: "admin" }, route: [routeOf(1)] },
    });
    expect(added.body).toMatchObject({ result: true });

    // GSE answers the update 502 every time (its outcome unknown: FAILED); recovery then starts the
    // rollback from the configs stream and reads the channel, a read held until the whole stack is
    // killed. Only recovery's reads (operator "admin") are held: the change's own read-back (its
    // caller's operator) is what finds the update not applied before the one resend.
    await simulatorControl(first.info, "POST", "faults/add", {
      faults: [
        { kind: "http_error", status: 502, operation: "update_route", match: `"channel_id":${channelId}` },
        {
          kind: "latency",
          operation: "query_route",
          latencyMs: 60_000,
          match: `{"channel_id":${channelId}},"operation":{"operator_name":"admin"}`,
          count: 100,
        },
      ],
    });
    const refused = await callApi(first.info.gatewayUrl, "/api/v2/data/update_route", {
      method: "POST",
      headers: auth(first.info),
      body: {
        condition: { channel_id: channelId, plat_name: "bkmonitor" },
        operation: { operator_name: "crash-test" },
        specification: { route: [routeOf(2)] },
      },
    });
    expect(refused.status).toBe(502);
    expect(refused.body).toMatchObject({ result: false, code_name: "BAD_GATEWAY" });
    // The held read's fault has been hit: recovery is inside the rollback.
    const heldReads = async (): Promise<number> => {
      const { faults } = (await simulatorControl(first.info, "GET", "faults")) as {
        faults: { spec: { operation?: string; match?: string }; remaining: number | null }[];
      };
      return 100 - (faults.find((f) => f.spec.operation === "query_route" && f.spec.match?.includes(`${channelId}`))?.remaining ?? 100);
    };
    await eventually("recovery to start the rollback", async () => ((await heldReads()) > 0 ? true : undefined), 30_000);
    expect(await first.stop("SIGKILL")).toBe("SIGKILL");

    const second = await start();
    const dynamo = new DynamoDBClient(localClientConfig(second.info.dynamodbEndpoint));
    try {
      const store = configStore(second.info, dynamo);
      // The restarted stack's recovery may pick the re-delivered stream record up at once; the
      // reconcile below is the schedule's path. Either may finish the rollback, never both.
      expect((await store.getVersion(routeRef(channelId), 2))?.status).toMatch(/^(FAILED|ROLLED_BACK)$/);
      const head = await store.getHead(routeRef(channelId));
      expect(head).toMatchObject({ current_version: 1 });
      if (!head) return;

      const alerts: ConfigAlert[] = [];
      const deps = reconcileAfterTimeout(second.info, store, alerts);
      await reconcileHead(deps, head);
      expect(await store.getVersion(routeRef(channelId), 2)).toMatchObject({ status: "ROLLED_BACK" });
      const after = await store.getHead(routeRef(channelId));
      expect(after).toMatchObject({ current_version: 1, last_good_version: 1 });
      expect(after?.pending_version).toBeUndefined();
      // A second reconcile (the next schedule) does nothing more.
      const again = await store.getHead(routeRef(channelId));
      if (again) await reconcileHead(deps, again);
      // Exactly one alert, from whichever path finished it: ours, or the stack's recovery (its topic's console log).
      const published = (): number =>
        alerts.length + logLines(second.info, "alerts").filter((l) => l.includes("config.rolled_back") && l.includes(`route#${channelId}`)).length;
      await eventually("the rollback's alert", () => (published() >= 1 ? true : undefined));
      expect(published()).toBe(1);
      const held = await callApi(second.info.gatewayUrl, "/api/v2/data/query_route", {
        method: "POST",
        headers: auth(second.info),
        body: { condition: { channel_id: channelId, plat_name: "bkmonitor" }, operation: { operator_name: "admin" } },
      });
      expect((held.body.data as { route: { name: string }[] }[])[0]?.route.map((r) => r.name)).toEqual([routeOf(1).name]);
    } finally {
      dynamo.destroy();
      await second.stop("SIGINT");
    }
  });
});
