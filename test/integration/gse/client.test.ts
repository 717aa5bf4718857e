import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { GseError } from "../../../lib/core/errors.ts";
import { GseClient, type GseSettings } from "../../../lib/gse/client.ts";
import { applyConfigChange } from "../../../lib/gse/config-apply.ts";
import { startGseSimulator, type GseSimulator } from "../../../local/gse-simulator/index.ts";

// A simulator of this file's own (real HTTP on loopback), so call counts are exact.
let sim: GseSimulator;
let settings: GseSettings;
const secret = "client-test-secret";
beforeAll(async () => {
  sim = await startGseSimulator({ agents: 20, credentials: [{ bk_app_code: "bk_monitorv3", bk_app_secret: secret }] });
  settings = { baseUrl: sim.url, flavour: "v2", appCode: "bk_monitorv3", appSecret: secret, username: "admin", timeoutMs: 500, maxAttempts: 3 };
});
afterAll(() => sim.stop());
beforeEach(() => {
  sim.clearFaults();
});

/** A client whose waits are recorded instead of slept, with jitter pinned to its maximum. */
function client(overrides: Partial<GseSettings> = {}) {
  const delays: number[] = [];
  const gse = new GseClient({ gse: { ...settings, ...overrides }, sleep: async (ms) => void delays.push(ms), random: () => 0.999 });
  return { gse, delays };
}

const op = { operator_name: "admin" };
const kafkaStreamTo = (name: string) => ({ name, report_mode: "kafka" as const, kafka: { storage_address: [{ ip: "kafka.local", port: 9092 }] } });
const calls = (name: string) => (sim.counters().calls as Record<string, number>)[name] ?? 0;
const applied = (name: string) => (sim.counters().applied as Record<string, number>)[name] ?? 0;

async function failure(promise: Promise<unknown>): Promise<GseError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(GseError);
    return error as GseError;
  }
  throw new Error("the call succeeded");
}

describe("GseClient", () => {
  it("calls list_agent_state on the gateway and get_agent_status on ESB, whatever the flavour", async () => {
    const { gse } = client({ flavour: "esb" });
    expect(gse.doorFor("list_agent_state")).toBe("gateway");
    expect(gse.doorFor("get_agent_status")).toBe("esb");
    expect(gse.doorFor("add_route")).toBe("esb");
    expect(client().gse.doorFor("add_route")).toBe("gateway");
    const state = await gse.call("list_agent_state", { agent_id_list: ["0:10.0.0.1", "0:10.9.9.9"] });
    expect(state.map((a) => a.bk_agent_id)).toEqual(["0:10.0.0.1"]);
    const legacy = await gse.call("get_agent_status", { bk_supplier_account: "0", hosts: [{ ip: "10.0.0.1", bk_cloud_id: 0 }] });
    expect(Object.keys(legacy)).toEqual(["0:10.0.0.1"]);
  });

  it("sends config operations through ESB when the flavour is esb", async () => {
    const { gse } = client({ flavour: "esb" });
    const added = await gse.call("add_streamto", { metadata: { plat_name: "bkmonitor" }, operation: op, stream_to: kafkaStreamTo("esb-door") });
    expect(added.stream_to_id).toBeGreaterThan(0);
  });

  it("throws a business error with GSE's code for a missing object, without retrying it", async () => {
    const { gse, delays } = client();
    const before = calls("query_route");
    const error = await failure(gse.call("query_route", { condition: { channel_id: 1500999 }, operation: op }));
    expect(error).toMatchObject({ kind: "business", gseCode: 1014505, notFound: true, status: 200, outcome: "rejected" });
    expect(error.message).toContain("not found");
    expect(calls("query_route") - before).toBe(1);
    expect(delays).toEqual([]);
  });

  it("retries a read on 5xx with full-jitter backoff and answers", async () => {
    sim.setFaults([{ kind: "http_error", status: 502, operation: "list_agent_state", count: 2 }]);
    const { gse, delays } = client();
    const state = await gse.call("list_agent_state", { agent_id_list: ["0:10.0.0.2"] });
    expect(state).toHaveLength(1);
    expect(delays).toHaveLength(2);
    // Full jitter: each wait is a random share of 200 ms × 2^(attempt-1).
    expect(delays[0]).toBeLessThan(200);
    expect(delays[1]).toBeLessThan(400);
  });

  it("waits at least Retry-After on 429", async () => {
    sim.setFaults([{ kind: "rate_limit", retryAfterSeconds: 2, operation: "query_streamto", count: 1 }]);
    const { gse, delays } = client();
    await gse.call("query_streamto", { condition: { plat_name: "bkmonitor" }, operation: op }).catch(() => undefined);
    expect(delays[0]).toBe(2000);
  });

  it("gives up after maxAttempts and reports the last error", async () => {
    sim.setFaults([{ kind: "reset", operation: "list_agent_state" }]);
    const { gse, delays } = client();
    const error = await failure(gse.call("list_agent_state", { agent_id_list: ["0:10.0.0.3"] }));
    expect(error.kind).toBe("unavailable");
    expect(error.status).toBe(502);
    expect(delays).toHaveLength(2);
  });

  it("times out a read that GSE holds and says so (504)", async () => {
    sim.setFaults([{ kind: "timeout", operation: "query_route", count: 3 }]);
    const { gse } = client({ maxAttempts: 1, timeoutMs: 200 });
    const error = await failure(gse.call("query_route", { condition: { channel_id: 1000 }, operation: op }));
    expect(error).toMatchObject({ kind: "timeout", status: 504, outcome: "unknown" });
  });

  it("names the field when GSE answers data of the wrong shape", async () => {
    sim.setFaults([{ kind: "schema_violation", operation: "list_agent_state" }]);
    const { gse } = client({ maxAttempts: 1 });
    const error = await failure(gse.call("list_agent_state", { agent_id_list: ["0:10.0.0.1"] }));
    expect(error.kind).toBe("malformed");
    expect(error.message).toMatch(/0\.(bk_cloud_id|status_code|run_mode|bk_agent_id|version)/);
  });

  it("reports a body that is not JSON as malformed", async () => {
    sim.setFaults([{ kind: "malformed_body", operation: "list_agent_state" }]);
    const error = await failure(client({ maxAttempts: 1 }).gse.call("list_agent_state", { agent_id_list: ["0:10.0.0.1"] }));
    expect(error.kind).toBe("malformed");
  });

  it("does not retry a write whose outcome is unknown, and marks it so", async () => {
    sim.setFaults([{ kind: "http_error", status: 502, operation: "add_streamto", count: 1 }]);
    const { gse, delays } = client();
    const before = calls("add_streamto");
    const error = await failure(gse.call("add_streamto", { metadata: { plat_name: "bkmonitor" }, operation: op, stream_to: kafkaStreamTo("no-retry") }));
    expect(error.outcome).toBe("unknown");
    expect(calls("add_streamto") - before).toBe(1);
    expect(delays).toEqual([]);
  });

  it("retries a write refused by the gateway's rate limit, which never reached GSE", async () => {
    sim.setFaults([{ kind: "rate_limit", retryAfterSeconds: 0, operation: "add_streamto", count: 1 }]);
    const { gse } = client();
    const before = applied("add_streamto");
    const added = await gse.call("add_streamto", { metadata: { plat_name: "bkmonitor" }, operation: op, stream_to: kafkaStreamTo("rate-limited") });
    expect(added.stream_to_id).toBeGreaterThan(0);
    expect(applied("add_streamto") - before).toBe(1);
  });

  it("retries a write when GSE cannot be reached at all", async () => {
    const { gse, delays } = client({ baseUrl: "http://127.0.0.1:9" });
    const error = await failure(gse.call("add_route", { metadata: { plat_name: "bkmonitor" }, operation: op }));
    expect(error).toMatchObject({ kind: "unavailable", outcome: "not_sent" });
    expect(delays).toHaveLength(2);
  });

  it("does not retry when GSE refuses our credentials", async () => {
    const { gse, delays } = client({ appSecret: "wrong" });
    const error = await failure(gse.call("list_agent_state", { agent_id_list: ["0:10.0.0.1"] }));
    expect(error).toMatchObject({ kind: "auth", status: 502 });
    expect(error.message).not.toContain("wrong");
    expect(delays).toEqual([]);
  });

  it("refuses to send a request that breaks the contract", async () => {
    const before = calls("dispatch_message");
    const error = await failure(
      client().gse.call("dispatch_message", { slot_id: 37, token: "t", message_id: "m".repeat(65), agent_id_list: ["0:10.0.0.1"], content: "{}" }),
    );
    expect(error).toMatchObject({ kind: "malformed", outcome: "not_sent" });
    expect(error.message).toContain("message_id");
    expect(calls("dispatch_message")).toBe(before);
  });
});

describe("applyConfigChange", () => {
  it("resolves an add_streamto whose answer was lost by reading back: one stream_to, its id returned", async () => {
    const name = `lost-answer-${Date.now()}`;
    sim.setFaults([{ kind: "apply_then_fail", operation: "add_streamto", count: 1 }]);
    const before = applied("add_streamto");
    const added = await applyConfigChange(client().gse, "add_streamto", {
      metadata: { plat_name: "bkmonitor" },
      operation: op,
      stream_to: kafkaStreamTo(name),
    });
    expect(applied("add_streamto") - before).toBe(1);
    const listed = await client().gse.call("query_streamto", { condition: { plat_name: "bkmonitor", stream_to_id: added.stream_to_id }, operation: op });
    expect(JSON.stringify(listed)).toContain(name);
  });

  it("sends an add_streamto again only when the read-back shows it did not happen", async () => {
    const name = `not-applied-${Date.now()}`;
    sim.setFaults([{ kind: "timeout", operation: "add_streamto", count: 1 }]);
    const before = applied("add_streamto");
    const added = await applyConfigChange(client().gse, "add_streamto", {
      metadata: { plat_name: "bkmonitor" },
      operation: op,
      stream_to: kafkaStreamTo(name),
    });
    expect(added.stream_to_id).toBeGreaterThan(0);
    expect(applied("add_streamto") - before).toBe(1);
  });

  it("resolves an add_route with an explicit channel id by querying the channel", async () => {
    const route = [{ name: "r1", stream_to: { stream_to_id: 501, kafka: { topic_name: "t1" } } }];
    sim.setFaults([{ kind: "apply_then_fail", operation: "add_route", count: 1 }]);
    const before = applied("add_route");
    const result = await applyConfigChange(client().gse, "add_route", { metadata: { plat_name: "bkmonitor", channel_id: 1100001 }, operation: op, route });
    expect(result.channel_id).toBe(1100001);
    expect(applied("add_route") - before).toBe(1);
  });

  it("reports, and never repeats, an add_route whose channel id GSE was to allocate", async () => {
    sim.setFaults([{ kind: "apply_then_fail", operation: "add_route", count: 1 }]);
    const before = applied("add_route");
    const error = await failure(applyConfigChange(client().gse, "add_route", { metadata: { plat_name: "bkmonitor" }, operation: op }));
    expect(error.outcome).toBe("unknown");
    expect(applied("add_route") - before).toBe(1);
  });

  it("treats a delete whose answer was lost as done when the object is gone", async () => {
    const { gse } = client();
    const added = await gse.call("add_streamto", { metadata: { plat_name: "bkmonitor" }, operation: op, stream_to: kafkaStreamTo(`to-delete-${Date.now()}`) });
    sim.setFaults([{ kind: "apply_then_fail", operation: "delete_streamto", count: 1 }]);
    await applyConfigChange(gse, "delete_streamto", { condition: { stream_to_id: added.stream_to_id, plat_name: "bkmonitor" }, operation: op });
    const error = await failure(gse.call("query_streamto", { condition: { plat_name: "bkmonitor", stream_to_id: added.stream_to_id }, operation: op }));
    expect(error.notFound).toBe(true);
  });

  it("passes a business error through untouched", async () => {
    const error = await failure(
      applyConfigChange(client().gse, "update_route", {
        condition: { channel_id: 1100999, plat_name: "bkmonitor" },
        operation: op,
        specification: { route: [{ name: "x", stream_to: { stream_to_id: 501, kafka: { topic_name: "t" } } }] },
      }),
    );
    expect(error.notFound).toBe(true);
  });
});
