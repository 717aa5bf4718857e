/**
 * Faults from GSE on every operation, through the real gateway and handlers: retries stay within
 * bounds (counted per fault: how often the simulator applied it), a read ends answered or with a
 * clear gateway error, and a write is never applied twice, whatever came back. Each fault matches
 * only this test's own requests (a unique marker in the body), so tests beside it are untouched.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { alertInbox } from "../helpers/configs.ts";
import { callApi, eventually, simulatorControl, uniqueBuiltInChannelId, useStack, type ApiResponse } from "../helpers/stack.ts";

const { info, authHeader, sqs, sns } = useStack();
const MAX_ATTEMPTS = 4; // GSE_MAX_ATTEMPTS default

interface Fault {
  kind: string;
  operation: string;
  match: string;
  count: number;
  [key: string]: unknown;
}

/** Adds one fault for the duration of `run`; resolves with the answer and how often the fault hit. */
async function withFault(fault: Fault, run: () => Promise<ApiResponse>): Promise<{ res: ApiResponse; hits: number }> {
  const added = (await simulatorControl(info, "POST", "faults/add", { faults: [fault] })) as { faults: { id: number }[] };
  const id = added.faults[0]?.id as number;
  try {
    const res = await run();
    const { faults } = (await simulatorControl(info, "GET", "faults")) as { faults: { id: number; remaining: number | null }[] };
    const left = faults.find((f) => f.id === id)?.remaining ?? 0;
    return { res, hits: fault.count - left };
  } finally {
    await simulatorControl(info, "POST", "faults/remove", { ids: [id] });
  }
}

const marker = (): string => `fault-${randomUUID().replace(/-/g, "").slice(0, 12)}`;
const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  callApi(info.gatewayUrl, path, { method: "POST", headers: { ...authHeader, ...headers }, body });

/** A host nobody else asks about; its ip is the marker GSE sees. */
const uniqueHost = (m: string) => ({ ip: `10.254.${parseInt(m.slice(-4, -2), 16)}.${parseInt(m.slice(-2), 16)}`, bk_cloud_id: 0 });

/**
 * Reads, each with a body carrying the marker where GSE sees it, as bk-monitor sends them.
 * `gseOperation`: the GSE call the route makes (our get_agent_status fills its cache through
 * list_agent_state while bk-monitor's switch is on).
 */
const READS: Record<
  string,
  { path: string; body: (m: string) => unknown; headers?: Record<string, string>; gseOperation?: string; match?: (m: string) => string }
> = {
  query_streamto: { path: "/api/v2/data/query_streamto", body: (m) => ({ condition: { plat_name: "bkmonitor" }, operation: { operator_name: m } }) },
  query_route: { path: "/api/v2/data/query_route", body: (m) => ({ condition: { channel_id: 1000 }, operation: { operator_name: m } }) },
  list_agent_state: {
    path: "/api/v2/cluster/list_agent_state",
    body: (m) => ({ agent_id_list: ["0:10.0.0.1", m] }),
    headers: { "cache-control": "no-cache" },
  },
  get_agent_status: {
    path: "/api/c/compapi/v2/gse/get_agent_status/",
    body: (m) => ({ bk_supplier_account: "0", hosts: [{ ip: "10.0.0.1", bk_cloud_id: 0 }, uniqueHost(m)] }),
    headers: { "cache-control": "no-cache" },
    gseOperation: "list_agent_state",
    match: (m) => `:${uniqueHost(m).ip}"`,
  },
};

const TRANSIENT = [
  { kind: "http_error", status: 502 },
  { kind: "http_error", status: 504 },
  { kind: "rate_limit", retryAfterSeconds: 0 },
  { kind: "reset" },
  { kind: "malformed_body" },
  { kind: "schema_violation" },
  { kind: "timeout" },
];

describe.each(Object.entries(READS))("read %s", (operation, read) => {
  it.each(TRANSIENT.map((f) => [f.kind + ("status" in f ? ` ${String(f.status)}` : ""), f] as const))(
    "answers through a %s by retrying, once",
    async (_label, spec) => {
      const m = marker();
      const fault = { ...spec, operation: read.gseOperation ?? operation, match: read.match?.(m) ?? m, count: 1 };
      const { res, hits } = await withFault(fault, () => post(read.path, read.body(m), read.headers));
      expect(hits).toBe(1);
      // GSE's own answer (even a not-found), not a transport error of ours.
      expect(res.status, res.text.slice(0, 200)).toBe(200);
      expect([0, 1014505]).toContain(res.body.code);
    },
  );

  it("gives up after the bounded attempts with a clear 502", async () => {
    const m = marker();
    const fault = { kind: "http_error", status: 502, operation: read.gseOperation ?? operation, match: read.match?.(m) ?? m, count: 50 };
    const { res, hits } = await withFault(fault, () => post(read.path, read.body(m), read.headers));
    expect(hits).toBe(MAX_ATTEMPTS);
    expect(res.status).toBe(502);
    expect(res.body).toMatchObject({ result: false, code: 1650200 });
  });
});

describe("writes: never applied twice", () => {
  const addStreamTo = (name: string) => ({
    metadata: { plat_name: "bkmonitor" },
    operation: { operator_name: "admin" },
    stream_to: { name, report_mode: "kafka", kafka: { storage_address: [{ ip: "kafka.local", port: 9092 }] } },
  });
  const streamTosNamed = async (name: string): Promise<number> => {
    const res = await post("/api/v2/data/query_streamto", { condition: { plat_name: "bkmonitor" }, operation: { operator_name: "admin" } });
    return (res.body.data as { name?: string; stream_to?: { name?: string } }[]).filter((i) => (i.stream_to?.name ?? i.name) === name).length;
  };

  it.each([
    ["a 5xx before GSE applied it: read back, not there, sent again", { kind: "http_error", status: 502 }],
    ["GSE applied it, then answered 5xx: read back, there, answered", { kind: "apply_then_fail" }],
    ["GSE applied it, then the connection reset", { kind: "reset", apply: true }],
    ["GSE held it until the timeout, without applying it", { kind: "timeout" }],
    ["GSE's rate limit: never reached GSE, retried", { kind: "rate_limit", retryAfterSeconds: 0 }],
  ])("add_streamto ends with exactly one stream_to after %s", async (_label, spec) => {
    const name = marker();
    const { res, hits } = await withFault({ ...spec, operation: "add_streamto", match: name, count: 1 }, () =>
      post("/api/v2/data/add_streamto", addStreamTo(name)),
    );
    expect(hits).toBe(1);
    expect(res.status, res.text.slice(0, 200)).toBe(200);
    expect(res.body.data).toMatchObject({ stream_to_id: expect.any(Number) });
    expect(await streamTosNamed(name)).toBe(1);
  });

  it("add_streamto passes GSE's business error through and creates nothing", async () => {
    const name = marker();
    const { res } = await withFault(
      { kind: "business_error", code: 1014001, message: "plat_name not registered", operation: "add_streamto", match: name, count: 1 },
      () => post("/api/v2/data/add_streamto", addStreamTo(name)),
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ result: false, code: 1014001, message: "plat_name not registered" });
    expect(await streamTosNamed(name)).toBe(0);
  });

  it("add_route with its own channel id ends with one channel after GSE applied it and failed", async () => {
    const channelId = uniqueBuiltInChannelId();
    const route = [{ name: marker(), stream_to: { stream_to_id: 501, kafka: { topic_name: "t" } } }];
    const { res, hits } = await withFault({ kind: "apply_then_fail", operation: "add_route", match: String(channelId), count: 1 }, () =>
      post("/api/v2/data/add_route", { metadata: { plat_name: "bkmonitor", channel_id: channelId }, operation: { operator_name: "admin" }, route }),
    );
    expect(hits).toBe(1);
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ channel_id: channelId });
    const channel = await post("/api/v2/data/query_route", { condition: { channel_id: channelId }, operation: { operator_name: "admin" } });
    expect(channel.body.data).toMatchObject([{ route: [{ name: route[0]?.name }] }]);
  });

  it("dispatch_message on a lasting 5xx: GSE's error passed through, then exactly COMMAND_MAX_ATTEMPTS sends in all, FAILED, one alert", {
    timeout: 90_000,
  }, async () => {
    const m = marker();
    const inbox = await alertInbox(info, sqs, sns);
    const attempts = 5;
    const { res, hits } = await withFault({ kind: "http_error", status: 502, operation: "dispatch_message", match: m, count: 50 }, async () => {
      const answer = await post("/api/v2/cluster/dispatch_message", { message_id: m, agent_id_list: ["0:10.0.0.1"], content: "{}" });
      // Each retry waits for the one before to fail: the count stops at the attempts allowed.
      await eventually(
        "the command to give up",
        async () => {
          const page = await callApi(info.gatewayUrl, `/v1/commands/${m}`, { headers: authHeader });
          return (page.body.data as { command?: { status: string } } | undefined)?.command?.status === "FAILED" ? true : undefined;
        },
        60_000,
      );
      return answer;
    });
    expect(res.status).toBe(502);
    expect(res.body.result).toBe(false);
    expect(hits).toBe(attempts);
    const alerts = await eventually("the command's alert", async () => {
      const found = await inbox.about(`command#${m}`);
      return found.length > 0 ? found : undefined;
    });
    expect(alerts).toMatchObject([{ type: "command.failed", counts: expect.objectContaining({ FAILED: 1 }) }]);
  });
});
