/**
 * The GSE client's metrics against a simulator of this file's own (real HTTP on loopback): every
 * call counts once for its operation with its latency, retries included, and a call that fails
 * after its retries counts as an error.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { GseClient, type GseSettings } from "../../../lib/gse/client.ts";
import { startGseSimulator, type GseSimulator } from "../../../local/gse-simulator/index.ts";
import { captureMetrics } from "../../helpers/emf.ts";

let sim: GseSimulator;
let settings: GseSettings;
const secret = "metrics-test-secret";
beforeAll(async () => {
  sim = await startGseSimulator({ agents: 5, credentials: [{ bk_app_code: "bk_monitorv3", bk_app_secret: secret }] });
  settings = { baseUrl: sim.url, flavour: "v2", appCode: "bk_monitorv3", appSecret: secret, username: "admin", timeoutMs: 500, maxAttempts: 2 };
});
afterAll(() => sim.stop());
beforeEach(() => sim.clearFaults());

/** A client on a clock that moves 25 ms per reading, so latency is exact. */
function client() {
  const captured = captureMetrics();
  let clock = 0;
  const gse = new GseClient({ gse: settings, sleep: async () => undefined, metrics: captured.metrics, now: () => (clock += 25) });
  return { gse, ...captured };
}

describe("GseClient metrics", () => {
  it("records a call and its latency under the operation's name", async () => {
    const { gse, values } = client();
    await gse.call("list_agent_state", { agent_id_list: ["0:10.0.0.1"] });
    expect(values("GseCalls", { operation: "list_agent_state" })).toEqual([1]);
    expect(values("GseLatency", { operation: "list_agent_state" })).toEqual([25]);
    expect(values("GseErrors")).toEqual([]);
  });

  it("counts a call retried after a 502 once, and no error when the retry answers", async () => {
    sim.setFaults([{ kind: "http_error", status: 502, operation: "list_agent_state", count: 1 }]);
    const { gse, values } = client();
    await gse.call("list_agent_state", { agent_id_list: ["0:10.0.0.1"] });
    expect(sim.counters().calls.list_agent_state).toBeGreaterThanOrEqual(2);
    expect(values("GseCalls", { operation: "list_agent_state" })).toEqual([1]);
    expect(values("GseErrors")).toEqual([]);
  });

  it("records an error for its operation when GSE keeps failing", async () => {
    sim.setFaults([{ kind: "http_error", status: 502, operation: "query_route" }]);
    const { gse, values } = client();
    await expect(gse.call("query_route", { condition: { channel_id: 1500999 }, operation: { operator_name: "admin" } })).rejects.toThrow(/502/);
    expect(values("GseCalls", { operation: "query_route" })).toEqual([1]);
    expect(values("GseErrors", { operation: "query_route" })).toEqual([1]);
    expect(values("GseLatency", { operation: "query_route" })).toEqual([25]);
  });
});
