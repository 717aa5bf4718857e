/**
 * Concurrency on one configuration object: 50 updates of the same route at once through the
 * gateway. They queue on the object's head (CONFIG_LOCK_WAIT_MS): each accepted change is exactly
 * one version, applied on the head the one before left; a caller still waiting when the wait ends
 * gets 409 and changes nothing; the versions are gap-free and GSE ends holding the last applied
 * document. And 50 identical dispatches at once: one command, each agent delivered once (the
 * simulator counts deliveries).
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { configStore, route as routeRef } from "../helpers/configs.ts";
import { DETAIL, TRIES } from "../helpers/reliability-reporter.ts";
import { addSimulatorAgents, callApi, simulatorControl, uniqueBuiltInChannelId, useStack } from "../helpers/stack.ts";

const { info, dynamo, authHeader } = useStack();
const store = configStore(info, dynamo);
const PARALLEL = 50;

describe("50 parallel updates of one route", () => {
  it("queue on the head: one version per accepted change, 409 only after the wait, versions gap-free, GSE holds the last applied document", {
    timeout: 120_000,
  }, async ({ annotate }) => {
    const channelId = uniqueBuiltInChannelId();
    const routeOf = (n: number) => ({ name: `conc_${channelId}_${n}`, stream_to: { stream_to_id: 501, kafka: { topic_name: `conc_${channelId}_${n}` } } });
    const added = await callApi(info.gatewayUrl, "/api/v2/data/add_route", {
      method: "POST",
      headers: authHeader,
      body: { metadata: { channel_id: channelId, plat_name: "bkmonitor" }, operation: { operator_name: "admin" }, route: [routeOf(0)] },
    });
    expect(added.body).toMatchObject({ result: true });

    const answers = await Promise.all(
      Array.from({ length: PARALLEL }, (_, i) =>
        callApi(info.gatewayUrl, "/api/v2/data/update_route", {
          method: "POST",
          headers: authHeader,
          body: {
            condition: { channel_id: channelId, plat_name: "bkmonitor" },
            operation: { operator_name: "admin" },
            specification: { route: [routeOf(i + 1)] },
          },
        }),
      ),
    );

    const accepted = answers.filter((a) => a.status === 200 && a.body.result === true);
    const conflicts = answers.filter((a) => a.status === 409);
    expect(accepted.length + conflicts.length, JSON.stringify(answers.filter((a) => a.status !== 200 && a.status !== 409).map((a) => a.body))).toBe(PARALLEL);
    expect(accepted.length).toBeGreaterThanOrEqual(1);
    for (const c of conflicts) expect(c.body).toMatchObject({ result: false, code_name: "CONFLICT" });

    // Versions: 0 (adopted) + 1 (add) + one per accepted change, all APPLIED, numbered without gaps.
    const head = await store.getHead(routeRef(channelId));
    expect(head).toMatchObject({ current_version: 1 + accepted.length, last_good_version: 1 + accepted.length, latest_version: 1 + accepted.length });
    expect(head?.pending_version).toBeUndefined();
    for (let v = 2; v <= 1 + accepted.length; v++)
      expect(await store.getVersion(routeRef(channelId), v)).toMatchObject({ status: "APPLIED", parent_version: v - 1 });
    expect(await store.getVersion(routeRef(channelId), 2 + accepted.length)).toBeUndefined();

    // GSE holds the first route and exactly the accepted ones (update_route upserts by name): a
    // refused caller's route never reached GSE.
    const held = await callApi(info.gatewayUrl, "/api/v2/data/query_route", {
      method: "POST",
      headers: authHeader,
      body: { condition: { channel_id: channelId, plat_name: "bkmonitor" }, operation: { operator_name: "admin" } },
    });
    const acceptedNames = answers.flatMap((a, i) => (a.status === 200 && a.body.result === true ? [routeOf(i + 1).name] : []));
    const heldNames = (held.body.data as { route: { name: string }[] }[])[0]?.route.map((r) => r.name).sort();
    expect(heldNames).toEqual([routeOf(0).name, ...acceptedNames].sort());
    // Each change was applied on the one before (no lost update): the last version's document is all of them.
    const last = await store.getVersion(routeRef(channelId), head?.current_version ?? 0);
    expect((last!.document as { route: { name: string }[] }).route.map((r) => r.name).sort()).toEqual(heldNames);
    await annotate(`${accepted.length} accepted, ${conflicts.length} answered 409 after the wait`, DETAIL);
    await annotate(String(PARALLEL), TRIES);
  });
});

describe("50 parallel identical dispatches", () => {
  it("make one command, delivered once to each agent; every caller gets it", { timeout: 120_000 }, async ({ annotate }) => {
    const run = randomUUID().slice(0, 8);
    const agents = await addSimulatorAgents(info, () =>
      Array.from({ length: 3 }, (_, i) => ({
        bk_agent_id: `conc-${run}-${i}`,
        // 10.244.* is this file's alone; a draw that collides with its own earlier one is drawn again.
        ip: `10.244.${Math.floor(Math.random() * 250)}.${i + 1}`,
        status_code: 2,
        churn: false,
      })),
    );
    const body = { message_id: `test.conc.${run}`, agent_id_list: agents.map((a) => a.bk_agent_id), content: JSON.stringify({ action: "reload" }) };
    const answers = await Promise.all(
      Array.from({ length: PARALLEL }, () => callApi(info.gatewayUrl, "/api/v2/cluster/dispatch_message", { method: "POST", headers: authHeader, body })),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(PARALLEL).fill(200));
    const created = new Set(answers.map((a) => (a.body.data as { command: { created_at: string } }).command.created_at));
    expect(created.size).toBe(1);
    const listed = await callApi(info.gatewayUrl, "/v1/commands?limit=200", { headers: authHeader });
    expect((listed.body.data as { commands: { message_id: string }[] }).commands.filter((c) => c.message_id === body.message_id)).toHaveLength(1);
    const delivered = (await simulatorControl(info, "GET", `deliveries?message_id=${encodeURIComponent(body.message_id)}`)) as {
      agents: Record<string, number>;
    };
    expect(delivered.agents).toEqual(Object.fromEntries(agents.map((a) => [a.bk_agent_id, 1])));
    await annotate(String(PARALLEL), TRIES);
  });
});
