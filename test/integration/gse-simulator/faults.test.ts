import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { GATEWAY_PREFIX, OPERATIONS } from "../../../lib/gse/operations.ts";
import { esbEnvelopeSchema, gatewayErrorBodySchema, GSE_NOT_FOUND_CODE } from "../../../lib/gse/schemas.ts";
import type { FaultSpec, GseSimulator } from "../../../local/gse-simulator/index.ts";
import * as examples from "../../helpers/gse-api-examples.ts";
import { call, control, envelopeOf, startTestSimulator, waitFor } from "./client.ts";

const DATA = `${GATEWAY_PREFIX}/api/v2/data`;
const LIST_STATE = `${GATEWAY_PREFIX}/api/v2/cluster/list_agent_state`;
const QUERY_ROUTE_BODY = { condition: { channel_id: 1500123 }, operation: { operator_name: "admin" } };

let sim: GseSimulator;
let agentIds: string[];

beforeAll(async () => {
  sim = await startTestSimulator({ agents: 20 });
  agentIds = sim.listAgents({ limit: 20 }).map((a) => a.legacy_id);
});
afterAll(async () => {
  await sim.stop();
});
beforeEach(() => {
  sim.reset();
});

const listState = () => call(sim, LIST_STATE, { agent_id_list: agentIds });
const addRoute = () => call(sim, `${DATA}/add_route`, examples.addRouteWithChannelRequestExample);
const queryRoute = () => call(sim, `${DATA}/query_route`, QUERY_ROUTE_BODY);

describe("HTTP-level faults", () => {
  it("answers http_error with 502 and the gateway body 1650200 BAD_GATEWAY, for the next call only", async () => {
    sim.setFaults([{ kind: "http_error", operation: "list_agent_state", count: 1 }]);
    const failed = await listState();
    expect(failed.status).toBe(502);
    expect(gatewayErrorBodySchema.parse(failed.json)).toMatchObject({ code: 1650200, code_name: "BAD_GATEWAY" });
    expect(failed.headers["x-bkapi-request-id"]).toBeDefined();
    expect((await listState()).status).toBe(200);
    expect(sim.faults()).toEqual([]);
  });

  it("answers http_error status 504 with 1650401 REQUEST_BACKEND_TIMEOUT", async () => {
    sim.setFaults([{ kind: "http_error", status: 504 }]);
    const answer = await listState();
    expect(answer.status).toBe(504);
    expect(answer.json).toMatchObject({ code: 1650401, code_name: "REQUEST_BACKEND_TIMEOUT" });
  });

  it("answers rate_limit with 429, Retry-After and exactly the §2.3 body", async () => {
    sim.setFaults([{ kind: "rate_limit", retryAfterSeconds: 7 }]);
    const answer = await listState();
    expect(answer.status).toBe(429);
    expect(answer.headers["retry-after"]).toBe("7");
    expect(answer.headers["x-bkapi-ratelimit-remaining"]).toBe("0");
    expect(answer.json).toEqual(examples.rateLimitGatewayErrorExample);
  });

  it("adds latency before an otherwise normal answer", async () => {
    sim.setFaults([{ kind: "latency", latencyMs: 150 }]);
    const started = performance.now();
    const answer = await listState();
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    expect(envelopeOf(answer).result).toBe(true);
    expect(sim.counters().faults.latency).toBe(1);
  });

  it("holds a timeout-faulted request open until the client gives up", async () => {
    sim.setFaults([{ kind: "timeout", operation: "list_agent_state" }]);
    await expect(call(sim, LIST_STATE, { agent_id_list: agentIds }, { signal: AbortSignal.timeout(200) })).rejects.toThrow();
    expect(sim.counters().calls.list_agent_state).toBe(1);
    await waitFor(() => sim.counters().held === 0);
  });

  it("counts a held request while the client still waits", async () => {
    sim.setFaults([{ kind: "timeout" }]);
    const controller = new AbortController();
    const pending = call(sim, LIST_STATE, { agent_id_list: agentIds }, { signal: controller.signal });
    await waitFor(() => sim.counters().held === 1);
    controller.abort();
    await expect(pending).rejects.toThrow();
  });

  it("resets the connection so the client sees a socket error", async () => {
    sim.setFaults([{ kind: "reset", count: 1 }]);
    await expect(listState()).rejects.toMatchObject({ code: expect.stringMatching(/^(UND_ERR_SOCKET|ECONNRESET)$/) });
    expect((await listState()).status).toBe(200);
  });

  it("answers malformed_body with HTTP 200 and a body that is not JSON", async () => {
    sim.setFaults([{ kind: "malformed_body" }]);
    const answer = await listState();
    expect(answer.status).toBe(200);
    expect(answer.json).toBeUndefined();
    expect(() => JSON.parse(answer.text)).toThrow();
  });

  it("answers schema_violation with valid JSON whose data fails the operation's schema", async () => {
    sim.setFaults([{ kind: "schema_violation" }]);
    const answer = await listState();
    expect(answer.status).toBe(200);
    expect(answer.json).toBeDefined();
    expect(esbEnvelopeSchema(OPERATIONS.list_agent_state.responseData).safeParse(answer.json).success).toBe(false);
  });

  it("breaks the envelope itself under schema_violation when data is null", async () => {
    await addRoute();
    sim.setFaults([{ kind: "schema_violation" }]);
    const answer = await call(sim, `${DATA}/update_route`, examples.updateRouteRequestExample);
    expect(esbEnvelopeSchema(OPERATIONS.update_route.responseData).safeParse(answer.json).success).toBe(false);
    expect(sim.counters().applied.update_route).toBe(0);
  });
});

describe("faults and write outcomes", () => {
  it("answers business_error with result false and the given code, applying nothing", async () => {
    sim.setFaults([{ kind: "business_error", operation: "add_route", code: 1306000, message: "backend said no" }]);
    const envelope = envelopeOf(await addRoute());
    expect(envelope).toMatchObject({ result: false, code: 1306000, message: "backend said no", data: null });
    sim.clearFaults();
    expect(envelopeOf(await queryRoute()).code).toBe(GSE_NOT_FOUND_CODE);
    expect(sim.counters().applied.add_route).toBe(0);
  });

  it("applies the write and then answers 5xx under apply_then_fail", async () => {
    sim.setFaults([{ kind: "apply_then_fail", operation: "add_route", status: 503 }]);
    const answer = await addRoute();
    expect(answer.status).toBe(503);
    expect(gatewayErrorBodySchema.safeParse(answer.json).success).toBe(true);
    expect(envelopeOf(await queryRoute())).toMatchObject({ result: true, data: [{ metadata: { channel_id: 1500123 } }] });
    expect(sim.counters()).toMatchObject({ applied: { add_route: 1 }, faults: { apply_then_fail: 1 } });
  });

  it("does not apply a write on a plain http_error", async () => {
    sim.setFaults([{ kind: "http_error", operation: "add_route" }]);
    expect((await addRoute()).status).toBe(502);
    expect(envelopeOf(await queryRoute()).code).toBe(GSE_NOT_FOUND_CODE);
  });

  it("applies a write before holding the request when timeout has apply: true", async () => {
    sim.setFaults([{ kind: "timeout", operation: "add_route", apply: true }]);
    await expect(call(sim, `${DATA}/add_route`, examples.addRouteWithChannelRequestExample, { signal: AbortSignal.timeout(150) })).rejects.toThrow();
    expect(envelopeOf(await queryRoute()).result).toBe(true);
  });

  it("applies a write before resetting the connection when reset has apply: true", async () => {
    sim.setFaults([{ kind: "reset", operation: "add_route", apply: true }]);
    await expect(addRoute()).rejects.toThrow();
    expect(sim.counters().applied.add_route).toBe(1);
  });
});

describe("fault targeting and control", () => {
  it("hits only the targeted operation", async () => {
    sim.setFaults([{ kind: "http_error", operation: "query_route" }]);
    expect((await listState()).status).toBe(200);
    expect((await queryRoute()).status).toBe(502);
  });

  it("hits the next N calls and then disappears", async () => {
    sim.setFaults([{ kind: "http_error", count: 2 }]);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await listState()).status);
    expect(statuses).toEqual([502, 502, 200, 200]);
  });

  it("hits a probability-driven fault on a deterministic share of calls", async () => {
    const run = async (target: GseSimulator): Promise<number[]> => {
      target.setFaults([{ kind: "http_error", probability: 0.5 }]);
      const statuses: number[] = [];
      for (let i = 0; i < 30; i++) statuses.push((await call(target, LIST_STATE, { agent_id_list: agentIds })).status);
      return statuses;
    };
    const first = await run(sim);
    sim.reset();
    const second = await run(sim);
    expect(second).toEqual(first);
    expect(first.filter((s) => s === 502).length).toBeGreaterThan(5);
    expect(first.filter((s) => s === 200).length).toBeGreaterThan(5);
  });

  it("sets, lists and clears faults through the control endpoint", async () => {
    const faults: FaultSpec[] = [{ kind: "rate_limit", operation: "list_agent_state", count: 3 }];
    const set = await control(sim, "POST", "/_sim/faults", { faults });
    expect(set.json).toMatchObject({ faults: [{ spec: faults[0], remaining: 3 }] });
    expect((await listState()).status).toBe(429);
    expect((await control(sim, "GET", "/_sim/faults")).json).toMatchObject({ faults: [{ remaining: 2 }] });
    await control(sim, "DELETE", "/_sim/faults");
    expect((await listState()).status).toBe(200);
  });

  it("refuses an invalid fault with 400 naming the field, keeping the current faults", async () => {
    sim.setFaults([{ kind: "http_error", count: 1 }]);
    const answer = await control(sim, "POST", "/_sim/faults", { faults: [{ kind: "latency" }] });
    expect(answer.status).toBe(400);
    expect(answer.text).toContain("latencyMs");
    expect(sim.faults()).toHaveLength(1);
  });

  it("counts calls per operation and fault hits per kind", async () => {
    sim.setFaults([{ kind: "http_error", operation: "list_agent_state", count: 1 }]);
    await listState();
    await listState();
    await queryRoute();
    const counters = (await control(sim, "GET", "/_sim/counters")).json;
    expect(counters).toMatchObject({ calls: { list_agent_state: 2, query_route: 1 }, faults: { http_error: 1 } });
  });
});
