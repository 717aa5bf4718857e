/**
 * Least privilege against the stack: bk-monitor's scopes (local-monitor: GSE's read, write,
 * dispatch) reach GSE's routes and none of ours that change state; a read-only caller reads and
 * nothing else; a caller configured without scopes (local-dev) is still an admin. A refusal is 403
 * APP_NO_PERMISSION naming the scope, and changes nothing.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { callApi, uniqueSimIp, useStack, type ApiResponse } from "../../helpers/stack.ts";

const { info, authHeader } = useStack();
const { monitor, reader } = info.credentials.scoped;
const headerOf = (c: { bk_app_code: string; bk_app_secret: string }) => ({
  "x-bkapi-authorization": JSON.stringify({ bk_app_code: c.bk_app_code, bk_app_secret: c.bk_app_secret }),
});
const call = (headers: Record<string, string>, method: string, path: string, body?: unknown): Promise<ApiResponse> =>
  callApi(info.gatewayUrl, path, { method, headers, ...(body !== undefined ? { body } : {}) });

const expectRefused = (res: ApiResponse, scope: string): void => {
  expect(res.status, res.text).toBe(403);
  expect(res.body).toMatchObject({ result: false, code: 1640301, code_name: "APP_NO_PERMISSION", data: { required_scope: scope } });
  expect(res.body.message).toContain(scope);
};

describe("bk-monitor's scopes (gse:read, gse:write, gse:dispatch)", () => {
  it("reach GSE's own routes", async () => {
    const state = await call(headerOf(monitor), "POST", "/api/v2/cluster/list_agent_state", { agent_id_list: ["0:10.0.0.1"] });
    expect(state.status, state.text).toBe(200);
    const query = await call(headerOf(monitor), "POST", "/api/v2/data/query_route", {
      condition: { channel_id: 1199998 },
      operation: { operator_name: "admin" },
    });
    expect(query.status, query.text).not.toBe(403);
  });

  it("cannot roll a config back, cancel a command or edit the fleet: 403 naming operator", async () => {
    expectRefused(await call(headerOf(monitor), "POST", "/v1/configs/route/1100001/rollback", { version: 1 }), "operator");
    expectRefused(await call(headerOf(monitor), "POST", "/v1/commands/scopes-test/cancel", {}), "operator");
    expectRefused(await call(headerOf(monitor), "POST", "/v1/fleet/agents/unregister", { agent_id_list: ["0:10.0.0.1"] }), "operator");
  });

  it("registers no agent when refused", async () => {
    const agent = `0:${uniqueSimIp("10.251")}`;
    expectRefused(await call(headerOf(monitor), "POST", "/v1/fleet/agents/register", { agent_id_list: [agent] }), "operator");
    const history = await call(authHeader, "GET", `/v1/fleet/agents/${encodeURIComponent(agent)}/history`);
    expect(history.status, history.text).toBe(404);
  });
});

describe("a read-only caller (gse:read)", () => {
  it("reads our views and GSE's state", async () => {
    expect((await call(headerOf(reader), "GET", "/v1/fleet")).status).toBe(200);
    expect((await call(headerOf(reader), "GET", "/v1/commands")).status).toBe(200);
    expect((await call(headerOf(reader), "POST", "/api/v2/cluster/list_agent_state", { agent_id_list: ["0:10.0.0.1"] })).status).toBe(200);
  });

  it("opens the status page by HTTP Basic, which marks it read-only (an admin's is not)", async () => {
    const basic = { authorization: `Basic ${Buffer.from(`${reader.bk_app_code}:${reader.bk_app_secret}`).toString("base64")}` };
    const data = await call(basic, "GET", "/v1/console/data");
    expect(data.status, data.text).toBe(200);
    expect((data.body.data as { viewer: unknown }).viewer).toEqual({ app_code: reader.bk_app_code, scopes: ["gse:read"], read_only: true });
    const admin = await call(authHeader, "GET", "/v1/console/data");
    expect((admin.body.data as { viewer: unknown }).viewer).toMatchObject({ read_only: false });
  });

  it("cannot change a config or dispatch: 403 naming gse:write and gse:dispatch, and no command is made", async () => {
    const add = await call(headerOf(reader), "POST", "/api/v2/data/add_route", { metadata: { plat_name: "scopes" }, operation: { operator_name: "admin" } });
    expectRefused(add, "gse:write");
    const messageId = `scopes-${randomUUID().slice(0, 8)}`;
    const dispatch = await call(headerOf(reader), "POST", "/api/v2/cluster/dispatch_message", {
      slot_id: info.credentials.gse.slotId,
      token: info.credentials.gse.slotToken,
      message_id: messageId,
      agent_id_list: ["0:10.0.0.1"],
      content: "{}",
    });
    expectRefused(dispatch, "gse:dispatch");
    expect((await call(authHeader, "GET", `/v1/commands/${messageId}`)).status).toBe(404);
  });
});

describe("a caller configured without scopes (local-dev)", () => {
  it("is an admin, as every caller was before scopes: an operator route answers past the scope check", async () => {
    const cancel = await call(authHeader, "POST", `/v1/commands/never-sent-${randomUUID().slice(0, 8)}/cancel`, {});
    expect(cancel.status, cancel.text).toBe(404);
  });
});
