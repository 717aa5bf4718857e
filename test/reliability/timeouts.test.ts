/**
 * Issue 24, defect 4: a function that runs out of time. On a stack of its own whose dispatch and
 * update_route functions time out after 8 s (GSE_CONTROL_FUNCTION_TIMEOUTS), a GSE simulator made
 * slow holds the call past that: the caller gets 504 with outcome "unknown" and what to check,
 * and a config version left PENDING is decided from GSE within seconds, not at the reconcile.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StackInfo } from "../../local/stack.ts";
import { DETAIL } from "../helpers/reliability-reporter.ts";
import { spawnStack, type SpawnedStack } from "../helpers/spawn-stack.ts";
import { addSimulatorAgents, callApi, eventually, simulatorControl, uniqueBuiltInChannelId } from "../helpers/stack.ts";

/**
 * Short enough that the test's slow GSE call outlasts it many times over; long enough that the
 * follow-up update, which must succeed, does so on a loaded 2-core machine.
 */
const FUNCTION_TIMEOUT_SECONDS = 8;
const dataDir = mkdtempSync(join(tmpdir(), "gse-control-timeouts-"));
let stack: SpawnedStack;
let info: StackInfo;

beforeAll(async () => {
  stack = await spawnStack(["--ports", "auto", "--random-secrets", "--data-dir", dataDir], {
    env: {
      GSE_CONTROL_FUNCTION_TIMEOUTS: `update_route=${FUNCTION_TIMEOUT_SECONDS},dispatch_message=${FUNCTION_TIMEOUT_SECONDS}`,
      // GSE calls wait up to a minute: the slow call is still pending when the function's time is up.
      GSE_TIMEOUT_MS: "60000",
    },
  });
  info = stack.info;
});

afterAll(async () => {
  await stack?.stop("SIGINT");
  if (process.env.GSE_CONTROL_KEEP_STACK_DATA) process.stderr.write(`timeouts test data kept in ${dataDir}\n`);
  else rmSync(dataDir, { recursive: true, force: true });
});

const auth = (): Record<string, string> => ({
  "x-bkapi-authorization": JSON.stringify({ bk_app_code: info.credentials.caller.bk_app_code, bk_app_secret: info.credentials.caller.bk_app_secret }),
});

/** A fault on the stack's simulator, for the rest of the file (each test matches only its own calls). */
const addFault = (fault: Record<string, unknown>) => simulatorControl(info, "POST", "faults/add", { faults: [fault] });

/** The path a 504's `data.check` names ("GET /v1/…"), called as it says. */
async function followCheck(check: string) {
  const [method, path] = check.split(" ");
  expect(method).toBe("GET");
  return callApi(info.gatewayUrl, path ?? "", { headers: auth() });
}

describe("a request that runs out of time", () => {
  it("dispatch: answers 504 REQUEST_TIMEOUT with outcome unknown and the command to check, which the check finds", { timeout: 90_000 }, async ({
    annotate,
  }) => {
    const run = randomUUID().slice(0, 8);
    const agents = await addSimulatorAgents(info, () => [
      { bk_agent_id: `timeout-${run}`, ip: `10.245.${1 + Math.floor(Math.random() * 250)}.7`, status_code: 2, churn: false },
    ]);
    const messageId = `test.timeout.${run}`;
    await addFault({ kind: "latency", operation: "dispatch_message", latencyMs: 20_000, match: messageId });

    const answer = await callApi(info.gatewayUrl, "/api/v2/cluster/dispatch_message", {
      method: "POST",
      headers: auth(),
      body: { message_id: messageId, agent_id_list: agents.map((a) => a.bk_agent_id), content: JSON.stringify({ action: "reload" }) },
    });

    expect(answer.status).toBe(504);
    expect(answer.body).toMatchObject({ result: false, code: 1650402, code_name: "REQUEST_TIMEOUT" });
    expect(answer.body.data).toEqual({ outcome: "unknown", message_id: messageId, check: `GET /v1/commands/${messageId}` });
    // The request goes on after the answer: on a loaded machine it may not have recorded the
    // command by its deadline, so the check is polled until it shows it.
    const check = (answer.body.data as { check: string }).check;
    const checked = await eventually("the command on its check path", async () => {
      const res = await followCheck(check);
      return res.status === 200 ? res : undefined;
    });
    expect(checked.body.data).toMatchObject({ command: { message_id: messageId } });
    await annotate(`GSE held the dispatch 20 s, the function's timeout ${FUNCTION_TIMEOUT_SECONDS} s: 504, the command found by its check`, DETAIL);
  });

  it("update_route with a slow verify read: answers 504 naming the route, and its version is decided within seconds so the next update is not refused with 409", {
    timeout: 120_000,
  }, async ({ annotate }) => {
    const channelId = uniqueBuiltInChannelId();
    const routeOf = (n: number) => ({
      name: `timeout_${channelId}_${n}`,
      stream_to: { stream_to_id: 501, kafka: { topic_name: `timeout_${channelId}_${n}` } },
    });
    const update = (n: number) =>
      callApi(info.gatewayUrl, "/api/v2/data/update_route", {
        method: "POST",
        headers: auth(),
        body: { condition: { channel_id: channelId, plat_name: "bkmonitor" }, operation: { operator_name: "admin" }, specification: { route: [routeOf(n)] } },
      });
    const added = await callApi(info.gatewayUrl, "/api/v2/data/add_route", {
      method: "POST",
      headers: auth(),
      body: { metadata: { channel_id: channelId, plat_name: "bkmonitor" }, operation: { operator_name: "admin" }, route: [routeOf(1)] },
    });
    expect(added.body).toMatchObject({ result: true });

    // GSE applies the update at once; the read that would verify it is held for a minute, once.
    await addFault({ kind: "latency", operation: "query_route", latencyMs: 60_000, count: 1, match: `"channel_id":${channelId}` });
    const slow = await update(2);
    const answeredAt = Date.now();
    expect(slow.status).toBe(504);
    expect(slow.body).toMatchObject({ result: false, code: 1650402, code_name: "REQUEST_TIMEOUT" });
    const check = `GET /v1/configs/route/${channelId}/versions`;
    expect(slow.body.data).toEqual({ outcome: "unknown", object: `route#${channelId}`, check });

    // The check shows the version decided from GSE (which holds it) within seconds, not at the 5-minute reconcile.
    const decided = await eventually(
      "version 2 decided",
      async () => {
        const history = await followCheck(check);
        const version = (history.body.data as { versions?: { version: number; status: string }[] } | undefined)?.versions?.find((v) => v.version === 2);
        return version && version.status !== "PENDING" ? version : undefined;
      },
      30_000,
    );
    expect(decided.status).toBe("APPLIED");
    const decidedAfterMs = Date.now() - answeredAt;
    expect(decidedAfterMs).toBeLessThan(30_000);

    const next = await update(3);
    expect(next.status).toBe(200);
    expect(next.body).toMatchObject({ result: true });
    await annotate(`version decided APPLIED ${(decidedAfterMs / 1000).toFixed(1)} s after the 504 (the reconcile: up to 5 min); the next update 200`, DETAIL);
  });
});
