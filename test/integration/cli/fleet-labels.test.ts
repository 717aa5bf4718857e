/**
 * `gse-control fleet label` and `fleet resolve` as operators run them: the real binary against the
 * test stack's gateway, on agents the fleet watches.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { addSimAgents } from "../../helpers/heartbeat.ts";
import { callApi, useStack } from "../../helpers/stack.ts";
import { cliRunner } from "./run-cli.ts";

const { info, authHeader } = useStack();
const dir = mkdtempSync(join(tmpdir(), "gse-cli-labels-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const { cli } = cliRunner(info, dir);
const run = randomUUID().slice(0, 8);

describe("gse-control fleet label / resolve", () => {
  it("labels an agent, changes and replaces its labels, and resolves a query by them", async () => {
    const { ids } = await addSimAgents(info, 2);
    const registered = await callApi(info.gatewayUrl, "/v1/fleet/agents/register", { method: "POST", headers: authHeader, body: { agent_id_list: ids } });
    expect(registered.status).toBe(200);
    const [first, second] = ids as [string, string];

    const set = await cli(["fleet", "label", first, `run=${run}`, "env=prod", "zone=sz-1"]);
    expect(set, set.stderr).toMatchObject({ code: 0 });
    expect(set.stdout.trim()).toBe(`${first}: run=${run}, env=prod, zone=sz-1`);
    const changed = await cli(["--json", "fleet", "label", first, "zone=sz-2", "--remove", "env"]);
    expect(changed.code, changed.stderr).toBe(0);
    expect(JSON.parse(changed.stdout)).toEqual({ agent_id: first, labels: { run, zone: "sz-2" } });
    expect((await cli(["fleet", "label", second, `run=${run}`, "--replace"])).code).toBe(0);

    const both = await cli(["--json", "fleet", "resolve", "--query", JSON.stringify({ labels: { run } })]);
    expect(both.code, both.stderr).toBe(0);
    expect(JSON.parse(both.stdout)).toEqual({ count: 2, agent_ids: [...ids].sort(), truncated: false });
    const one = await cli(["fleet", "resolve", "--query", JSON.stringify({ labels: { run, zone: "sz-2" } })]);
    expect(one.stdout.trim().split("\n")).toEqual(["1 agent", first]);

    const none = await cli(["fleet", "resolve", "--query", JSON.stringify({ labels: { run, zone: "nowhere" } })]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("no agents match target_query");
    const notWatched = await cli(["fleet", "label", "0:203.0.113.241", "env=prod"]);
    expect(notWatched.code).toBe(1);

    await callApi(info.gatewayUrl, "/v1/fleet/agents/unregister", { method: "POST", headers: authHeader, body: { agent_id_list: ids } });
  });
});
