/**
 * dispatch_message by target_query through the stack: the watched agents a query picks become the
 * command's targets, the view shows the query, the same body again is the same command.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { CommandView } from "../../../lib/commands/schemas.ts";
import { callApi, simulatorControl, uniqueSimIp, useStack } from "../../helpers/stack.ts";

const { info, authHeader } = useStack();
const run = randomUUID().slice(0, 8);
const DISPATCH = "/api/v2/cluster/dispatch_message";
const post = (path: string, body: unknown, method = "POST") => callApi(info.gatewayUrl, path, { method, headers: authHeader, body });

describe("dispatch_message by target_query", () => {
  it("sends to the watched agents the query picks, shows the query, and answers the same command for the same body", async () => {
    const agents = Array.from({ length: 5 }, (_, i) => ({ bk_agent_id: `tq-${run}-${i}`, ip: uniqueSimIp("10.237"), status_code: 2, churn: false }));
    await simulatorControl(info, "POST", "agents", { agents });
    const ids = agents.map((a) => a.bk_agent_id);
    expect((await post("/v1/fleet/agents/register", { agent_id_list: ids })).status).toBe(200);
    const picked = ids.slice(0, 3);
    for (const id of picked) expect((await post(`/v1/fleet/agents/${id}/labels`, { labels: { grp: run } }, "PUT")).status).toBe(200);

    const body = { message_id: `tq.${run}`, target_query: { labels: { grp: run } }, content: "reload" };
    const first = await post(DISPATCH, body);
    expect(first.status, first.text.slice(0, 300)).toBe(200);
    const command = (first.body.data as { command: CommandView }).command;
    expect(command.targets).toBe(3);
    expect(command.target_query).toEqual({ labels: { grp: run } });
    const seen = (await simulatorControl(info, "GET", `deliveries?message_id=${encodeURIComponent(body.message_id)}`)) as { agents: Record<string, number> };
    expect(Object.keys(seen.agents).sort()).toEqual([...picked].sort());

    // Labelled since: the same body is still the same command, its snapshot unchanged.
    expect((await post(`/v1/fleet/agents/${ids[3]}/labels`, { labels: { grp: run } }, "PUT")).status).toBe(200);
    const again = await post(DISPATCH, body);
    expect(again.status, again.text.slice(0, 300)).toBe(200);
    expect((again.body.data as { command: CommandView }).command).toMatchObject({ message_id: body.message_id, targets: 3 });
  });

  it("refuses both agent_id_list and target_query, neither, and a query nothing matches, naming the field; nothing is recorded", async () => {
    const id = `tq.bad.${run}`;
    const both = await post(DISPATCH, { message_id: id, agent_id_list: ["x"], target_query: { labels: { grp: run } }, content: "x" });
    expect(both.status).toBe(400);
    expect(both.text).toContain("target_query");
    const neither = await post(DISPATCH, { message_id: id, content: "x" });
    expect(neither.status).toBe(400);
    expect(neither.text).toContain("agent_id_list");
    const none = await post(DISPATCH, { message_id: id, target_query: { labels: { nowhere: run } }, content: "x" });
    expect(none.status).toBe(400);
    expect(none.text).toContain("target_query");
    expect((await callApi(info.gatewayUrl, `/v1/commands/${id}`, { headers: authHeader })).status).toBe(404);
  });
});
