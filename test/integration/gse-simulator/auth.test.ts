import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { GATEWAY_PREFIX } from "../../../lib/gse/operations.ts";
import { gatewayErrorBodySchema } from "../../../lib/gse/schemas.ts";
import type { GseSimulator } from "../../../local/gse-simulator/index.ts";
import { APP, call, control, envelopeOf, startTestSimulator } from "./client.ts";

const LIST_STATE = `${GATEWAY_PREFIX}/api/v2/cluster/list_agent_state`;
const ESB_STATUS = "/api/c/compapi/v2/gse/get_agent_status/";

let sim: GseSimulator;
let knownId: string;

beforeAll(async () => {
  sim = await startTestSimulator({ agents: 10 });
  knownId = sim.listAgents({ limit: 1 })[0]?.bk_agent_id ?? "";
});
afterAll(async () => {
  await sim.stop();
});
beforeEach(() => {
  sim.reset();
});

function expectInvalidArgs(answer: { status: number; json: unknown }, reason: string): void {
  expect(answer.status).toBe(400);
  expect(gatewayErrorBodySchema.parse(answer.json)).toMatchObject({ code_name: "INVALID_ARGS", code: 1640001, data: null, result: false });
  expect(JSON.stringify(answer.json)).toContain(reason);
}

describe("gateway authentication (§2.3: 400 INVALID_ARGS)", () => {
  it("refuses a request without X-Bkapi-Authorization with 'app code cannot be empty'", async () => {
    expectInvalidArgs(await call(sim, LIST_STATE, { agent_id_list: [knownId] }, { auth: "none" }), "app code cannot be empty");
  });

  it("refuses a header without bk_app_secret with 'app secret cannot be empty'", async () => {
    const headers = { "x-bkapi-authorization": JSON.stringify({ bk_app_code: APP.bk_app_code }) };
    expectInvalidArgs(await call(sim, LIST_STATE, { agent_id_list: [knownId] }, { auth: "none", headers }), "app secret cannot be empty");
  });

  it("refuses a wrong secret with 'bk_app_code or bk_app_secret is incorrect'", async () => {
    const headers = { "x-bkapi-authorization": JSON.stringify({ bk_app_code: APP.bk_app_code, bk_app_secret: "wrong" }) };
    expectInvalidArgs(await call(sim, LIST_STATE, { agent_id_list: [knownId] }, { auth: "none", headers }), "bk_app_code or bk_app_secret is incorrect");
  });

  it("refuses a right secret under another app code", async () => {
    const headers = { "x-bkapi-authorization": JSON.stringify({ bk_app_code: "other", bk_app_secret: APP.bk_app_secret }) };
    expectInvalidArgs(await call(sim, LIST_STATE, { agent_id_list: [knownId] }, { auth: "none", headers }), "incorrect");
  });

  it("refuses a header that is not JSON", async () => {
    const headers = { "x-bkapi-authorization": "bk_app_code=x" };
    expectInvalidArgs(await call(sim, LIST_STATE, { agent_id_list: [knownId] }, { auth: "none", headers }), "INVALID_ARGS");
  });

  it("does not take credentials from the body on the gateway door", async () => {
    const answer = await call(sim, LIST_STATE, { agent_id_list: [knownId], ...APP }, { auth: "none" });
    expectInvalidArgs(answer, "app code cannot be empty");
  });

  it("accepts credentials in the body on the ESB door, and ignores them as body fields", async () => {
    const agent = sim.listAgents({ limit: 1 })[0];
    const body = { ...APP, bk_username: "admin", bk_supplier_account: "0", hosts: [{ ip: agent?.ip, bk_cloud_id: agent?.bk_cloud_id }] };
    const envelope = envelopeOf(await call(sim, ESB_STATUS, body, { auth: "none" }));
    expect(envelope.result).toBe(true);
  });

  it("counts refused requests as auth failures and not as operation calls", async () => {
    await call(sim, LIST_STATE, { agent_id_list: [knownId] }, { auth: "none" });
    expect(sim.counters()).toMatchObject({ authFailures: 1, calls: { list_agent_state: 0 } });
  });

  it("sends X-Bkapi-Request-Id on gateway errors too", async () => {
    const answer = await call(sim, LIST_STATE, {}, { auth: "none" });
    expect(answer.headers["x-bkapi-request-id"]).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe("unknown paths (§2.3: 404 API_NOT_FOUND)", () => {
  it.each([
    ["an unknown path", "/api/v2/data/nope", "POST"],
    ["the unconfirmed /api/v2/data/get_proc_status", "/api/v2/data/get_proc_status", "POST"],
    ["an ESB path under the gateway prefix", `${GATEWAY_PREFIX}/api/c/compapi/v2/gse/get_agent_status/`, "POST"],
    ["GET on a known path", LIST_STATE, "GET"],
  ] as const)("answers %s with 404 code 1640401", async (_name, path, method) => {
    const answer = await call(sim, path, {}, { method });
    expect(answer.status).toBe(404);
    expect(gatewayErrorBodySchema.parse(answer.json)).toMatchObject({ code_name: "API_NOT_FOUND", code: 1640401 });
    expect(JSON.stringify(answer.json)).toContain(`method=\\"${method}\\"`);
  });
});

describe("control endpoint authentication", () => {
  it("answers GET /_sim/health without a token", async () => {
    const answer = await control(sim, "GET", "/_sim/health", undefined, null);
    expect(answer).toMatchObject({ status: 200, json: { ok: true } });
  });

  it.each([
    ["no token", null],
    ["a wrong token", "not-the-token"],
  ])("refuses %s with 401", async (_name, token) => {
    for (const [method, path] of [
      ["GET", "/_sim/counters"],
      ["POST", "/_sim/reset"],
      ["POST", "/_sim/faults"],
    ] as const) {
      const answer = await control(sim, method, path, {}, token);
      expect(answer.status, `${method} ${path}`).toBe(401);
    }
  });

  it("serves counters with the right token", async () => {
    const answer = await control(sim, "GET", "/_sim/counters");
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ calls: { add_route: 0 }, agents: 10 });
  });

  it("answers an unknown control route with 404 and a bad control body with 400 naming the field", async () => {
    expect((await control(sim, "GET", "/_sim/nope")).status).toBe(404);
    const bad = await control(sim, "POST", "/_sim/agents/status", { ids: ["x"], status_code: "2" });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain("status_code");
  });
});
