/**
 * The stream_to and route operations through the local gateway, against the stack's GSE
 * simulator. Other files share the simulator: every object here has a random name or id, the
 * platform name is this run's own, and every fault is scoped with `match` to text only this
 * file's requests carry (a unique operator name or stream_to name).
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { GATEWAY_PREFIX, OPERATIONS, pathVariants, type OperationName } from "../../../lib/gse/operations.ts";
import {
  callApi,
  simulatorControl,
  simulatorCounters,
  useStack,
  withFaults,
  type ApiResponse,
  uniqueBuiltInChannelId,
  withStackLock,
} from "../../helpers/stack.ts";

const { info, authHeader } = useStack();

const run = randomUUID().slice(0, 8);
let seq = 0;
const unique = (label: string): string => `ops-${run}-${label}-${++seq}`;
/** This run's platform: nobody else lists or changes its stream_tos. */
const PLAT = `ops_${run}`;

type ConfigOp = "add_streamto" | "update_streamto" | "delete_streamto" | "query_streamto" | "add_route" | "update_route" | "delete_route" | "query_route";
const CONFIG_OPS: readonly ConfigOp[] = [
  "add_streamto",
  "update_streamto",
  "delete_streamto",
  "query_streamto",
  "add_route",
  "update_route",
  "delete_route",
  "query_route",
];

/** bk-monitor's path: the gateway path with the stage prefix, no trailing slash. */
const canonical = (name: OperationName): string => `${GATEWAY_PREFIX}${OPERATIONS[name].gatewayPath}`;

function expectEnvelope(res: ApiResponse): void {
  expect(res.body, res.text).toEqual(
    expect.objectContaining({ result: expect.any(Boolean), code: expect.any(Number), message: expect.any(String), request_id: expect.any(String) }),
  );
  expect(res.body).toHaveProperty("data");
}

/** A POST through the gateway; every answer must be the envelope. */
async function post(path: string, body: unknown): Promise<ApiResponse> {
  const res = await callApi(info.gatewayUrl, path, { method: "POST", headers: authHeader, body });
  expectEnvelope(res);
  return res;
}

function expectOk(res: ApiResponse): void {
  expect(res.status, res.text).toBe(200);
  expect(res.body, res.text).toMatchObject({ result: true, code: 0, message: "" });
}

function expectNotFound(res: ApiResponse): void {
  expect(res.status, res.text).toBe(200);
  expect(res.body).toMatchObject({ result: false, code: 1014505, message: expect.stringContaining("not found") });
}

// ---------------------------------------------------------------------------------------------
// bodies and fixtures
// ---------------------------------------------------------------------------------------------

const operation = (operator = unique("op")) => ({ operator_name: operator });

const kafkaStreamTo = (name: string, host = "kafka.ops.local") => ({
  name,
  report_mode: "kafka",
  kafka: { storage_address: [{ ip: host, port: 9092 }], sasl_username: "", sasl_passwd: "" },
});

const addStreamToBody = (name = unique("st"), operator?: string) => ({
  metadata: { plat_name: PLAT, label: { bk_biz_id: 0, bk_biz_name: "" } },
  operation: operation(operator),
  stream_to: kafkaStreamTo(name),
});

const kafkaRoute = (name: string, streamToId: number, topic = `0ops_${name}`) => ({
  name,
  stream_to: { stream_to_id: streamToId, kafka: { topic_name: topic } },
});

const addRouteBody = (channelId: number | undefined, routes = [kafkaRoute(unique("route"), 501)], operator?: string) => ({
  metadata: { plat_name: PLAT, ...(channelId !== undefined ? { channel_id: channelId } : {}) },
  operation: operation(operator),
  route: routes,
});

async function createStreamTo(name = unique("st")): Promise<number> {
  const res = await post(canonical("add_streamto"), addStreamToBody(name));
  expectOk(res);
  return (res.body.data as { stream_to_id: number }).stream_to_id;
}

async function createChannel(routes = [kafkaRoute(unique("route"), 501)]): Promise<number> {
  const channelId = uniqueBuiltInChannelId();
  const res = await post(canonical("add_route"), addRouteBody(channelId, routes));
  expectOk(res);
  expect(res.body.data).toMatchObject({ channel_id: channelId });
  return channelId;
}

const queryStreamToBody = (id: number, operator?: string) => ({ condition: { plat_name: PLAT, stream_to_id: id }, operation: operation(operator) });
const queryRouteBody = (channelId: number, operator?: string) => ({ condition: { channel_id: channelId, plat_name: PLAT }, operation: operation(operator) });

interface StreamToItem {
  metadata: { stream_to_id: number; plat_name: string };
  stream_to: ReturnType<typeof kafkaStreamTo>;
  stream_to_id: number;
  kafka: { storage_address: { ip: string; port: number }[] };
}
interface Channel {
  metadata: { channel_id: number };
  route: ReturnType<typeof kafkaRoute>[];
}

async function readStreamTo(id: number): Promise<ApiResponse> {
  return post(canonical("query_streamto"), queryStreamToBody(id));
}

async function readChannel(channelId: number): Promise<ApiResponse> {
  return post(canonical("query_route"), queryRouteBody(channelId));
}

async function routesOf(channelId: number): Promise<ReturnType<typeof kafkaRoute>[]> {
  const res = await readChannel(channelId);
  expectOk(res);
  return (res.body.data as Channel[])[0]?.route ?? [];
}

/** Whether the fault with this `match` is still there with its single hit unused (GSE never saw the call). */
async function faultUnused(match: string): Promise<boolean> {
  const { faults } = (await simulatorControl(info, "GET", "faults")) as { faults: { spec: { match?: string }; remaining: number | null }[] };
  return faults.some((f) => f.spec.match === match && f.remaining === 1);
}

/** Both this file and its neighbour write routes and read add_route counter deltas. */
const withRouteCounterLock = <T>(fn: () => Promise<T>): Promise<T> => withStackLock(info, "add-route-counters", fn);

// ---------------------------------------------------------------------------------------------
// happy paths
// ---------------------------------------------------------------------------------------------

type Extra = Record<string, unknown>;

/** One successful call of each operation on `path`, with `extra` top-level keys in the body, and its effect checked. */
const HAPPY: Record<ConfigOp, (path: string, extra: Extra) => Promise<void>> = {
  add_streamto: async (path, extra) => {
    const name = unique("st");
    const res = await post(path, { ...addStreamToBody(name), ...extra });
    expectOk(res);
    const { stream_to_id: id } = res.body.data as { stream_to_id: number };
    expect(id).toEqual(expect.any(Number));
    const stored = await readStreamTo(id);
    expectOk(stored);
    expect((stored.body.data as StreamToItem[])[0]?.stream_to).toEqual(kafkaStreamTo(name));
  },
  update_streamto: async (path, extra) => {
    const name = unique("st");
    const id = await createStreamTo(name);
    const res = await post(path, {
      condition: { stream_to_id: id, plat_name: PLAT },
      operation: operation(),
      specification: { stream_to: kafkaStreamTo(name, "kafka-2.ops.local") },
      ...extra,
    });
    expectOk(res);
    const stored = await readStreamTo(id);
    expect((stored.body.data as StreamToItem[])[0]?.stream_to).toEqual(kafkaStreamTo(name, "kafka-2.ops.local"));
  },
  delete_streamto: async (path, extra) => {
    const id = await createStreamTo();
    const res = await post(path, { condition: { stream_to_id: id, plat_name: PLAT }, operation: operation(), ...extra });
    expectOk(res);
    expectNotFound(await readStreamTo(id));
  },
  query_streamto: async (path, extra) => {
    const name = unique("st");
    const id = await createStreamTo(name);
    const res = await post(path, { ...queryStreamToBody(id), ...extra });
    expectOk(res);
    const [item] = res.body.data as StreamToItem[];
    // Nested (bk-cmdb, bk-log) and flat (bk-monitor's Kafka tail) readers both find what they read (§6.5).
    expect(item?.metadata).toMatchObject({ stream_to_id: id, plat_name: PLAT });
    expect(item?.stream_to).toEqual(kafkaStreamTo(name));
    expect(item?.stream_to_id).toBe(id);
    expect(item?.kafka.storage_address).toEqual([{ ip: "kafka.ops.local", port: 9092 }]);
  },
  add_route: async (path, extra) => {
    const channelId = uniqueBuiltInChannelId();
    const routes = [kafkaRoute(unique("route"), 501)];
    const res = await post(path, { ...addRouteBody(channelId, routes), ...extra });
    expectOk(res);
    expect(res.body.data).toMatchObject({ channel_id: channelId });
    expect(await routesOf(channelId)).toEqual(routes);
  },
  update_route: async (path, extra) => {
    const kept = kafkaRoute(unique("route"), 501);
    const changed = kafkaRoute(unique("route"), 501);
    const channelId = await createChannel([kept, changed]);
    const replacement = kafkaRoute(changed.name, 502);
    const added = kafkaRoute(unique("route"), 503);
    const res = await post(path, {
      condition: { channel_id: channelId, plat_name: PLAT },
      operation: operation(),
      specification: { route: [replacement, added] },
      ...extra,
    });
    expectOk(res);
    // Upsert by name, nothing deleted (§7.3).
    expect(await routesOf(channelId)).toEqual([kept, replacement, added]);
  },
  delete_route: async (path, extra) => {
    const channelId = await createChannel();
    const res = await post(path, { condition: { channel_id: channelId, plat_name: PLAT }, operation: { ...operation(), method: "all" }, ...extra });
    expectOk(res);
    expectNotFound(await readChannel(channelId));
  },
  query_route: async (path, extra) => {
    const routes = [kafkaRoute(unique("route"), 501), kafkaRoute(unique("route"), 502)];
    const channelId = await createChannel(routes);
    const res = await post(path, { ...queryRouteBody(channelId), ...extra });
    expectOk(res);
    const [channel] = res.body.data as Channel[];
    expect(channel?.metadata).toMatchObject({ channel_id: channelId });
    // Echoed exactly as stored, so bk-monitor's compare-then-update sees no difference (§7.1).
    expect(channel?.route).toEqual(routes);
  },
};

describe.each(CONFIG_OPS.map((name) => [name]))("%s", (name) => {
  it.each(pathVariants(OPERATIONS[name]).map((path) => [path]))("succeeds on %s", async (path) => {
    await withRouteCounterLock(() => HAPPY[name](path, {}));
  });

  it("ignores the extra top-level keys real clients add (bk_username, bk_app_code, bk_app_secret)", async () => {
    await withRouteCounterLock(() =>
      HAPPY[name](canonical(name), { bk_username: "admin", bk_app_code: "bk_monitorv3", bk_app_secret: "not-checked-here", bk_token: "x" }),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// GSE business errors
// ---------------------------------------------------------------------------------------------

describe("GSE business errors pass through as HTTP 200 with GSE's code", () => {
  const missingStreamTo = 9_999_000 + Math.floor(Math.random() * 999);
  const missingChannel = (): number => uniqueBuiltInChannelId();

  it.each<[ConfigOp, () => unknown]>([
    ["query_streamto", () => queryStreamToBody(missingStreamTo)],
    [
      "update_streamto",
      () => ({
        condition: { stream_to_id: missingStreamTo, plat_name: PLAT },
        operation: operation(),
        specification: { stream_to: kafkaStreamTo(unique("st")) },
      }),
    ],
    ["delete_streamto", () => ({ condition: { stream_to_id: missingStreamTo, plat_name: PLAT }, operation: operation() })],
    ["query_route", () => queryRouteBody(missingChannel())],
    [
      "update_route",
      () => ({
        condition: { channel_id: missingChannel(), plat_name: PLAT },
        operation: operation(),
        specification: { route: [kafkaRoute(unique("route"), 501)] },
      }),
    ],
    ["delete_route", () => ({ condition: { channel_id: missingChannel(), plat_name: PLAT }, operation: { ...operation(), method: "all" } })],
  ])('%s of a missing object: result false, GSE\'s not-found code, "not found" in the message', async (name, body) => {
    expectNotFound(await post(canonical(name), body()));
  });

  it('adds "not found" to GSE\'s "not exist" wording and keeps GSE\'s text and code (§10b.1)', async () => {
    const operator = unique("op");
    const channelId = uniqueBuiltInChannelId();
    await withFaults(
      info,
      [{ kind: "business_error", operation: "query_route", match: operator, code: 1014003, message: `channelid(${channelId}) not exist` }],
      async () => {
        const res = await post(canonical("query_route"), queryRouteBody(channelId, operator));
        expect(res.status).toBe(200);
        expect(res.body).toMatchObject({ result: false, code: 1014003 });
        expect(res.body.message).toContain(`channelid(${channelId}) not exist`);
        expect(res.body.message).toContain("not found");
      },
    );
  });

  it("passes a conflict through: add_route with a channel id that exists", async () => {
    await withRouteCounterLock(async () => {
      const channelId = await createChannel();
      const res = await post(canonical("add_route"), addRouteBody(channelId));
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ result: false, message: expect.stringContaining("already exists") });
      expect(res.body.code).not.toBe(0);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// bad input
// ---------------------------------------------------------------------------------------------

describe("bad input answers 400 with the field path, and GSE is not called", () => {
  /** Each body carries `marker` somewhere, so a fault matching it would fail the call had it reached GSE. */
  const cases: [string, ConfigOp, (marker: string) => unknown, string][] = [
    [
      "unknown report_mode",
      "add_streamto",
      (m) => ({ ...addStreamToBody(m), stream_to: { ...kafkaStreamTo(m), report_mode: "kafka2" } }),
      "stream_to.report_mode",
    ],
    [
      "kafka object missing for report_mode kafka",
      "add_streamto",
      (m) => ({ ...addStreamToBody(m), stream_to: { name: m, report_mode: "kafka" } }),
      "stream_to.kafka",
    ],
    [
      "port as a string",
      "add_streamto",
      (m) => ({ ...addStreamToBody(m), stream_to: { ...kafkaStreamTo(m), kafka: { storage_address: [{ ip: "k", port: "9092" }] } } }),
      "stream_to.kafka.storage_address.0.port",
    ],
    ["no operation", "add_streamto", (m) => ({ metadata: { plat_name: PLAT }, stream_to: kafkaStreamTo(m) }), "operation"],
    [
      "stream_to_id as a string",
      "update_streamto",
      (m) => ({ condition: { stream_to_id: "501", plat_name: PLAT }, operation: operation(m), specification: { stream_to: kafkaStreamTo(m) } }),
      "condition.stream_to_id",
    ],
    ["no plat_name", "delete_streamto", (m) => ({ condition: { stream_to_id: 501 }, operation: operation(m) }), "condition.plat_name"],
    ["a label that is not an object", "query_streamto", (m) => ({ condition: { plat_name: PLAT, label: "biz" }, operation: operation(m) }), "condition.label"],
    ["channel_id out of range", "add_route", (m) => addRouteBody(2_097_152, undefined, m), "metadata.channel_id"],
    ["a route without stream_to", "add_route", (m) => ({ ...addRouteBody(undefined, undefined, m), route: [{ name: "r" }] }), "route.0.stream_to"],
    ["two routes with one name", "add_route", (m) => addRouteBody(undefined, [kafkaRoute("same", 501), kafkaRoute("same", 502)], m), "route.1.name"],
    [
      "an empty specification",
      "update_route",
      (m) => ({ condition: { channel_id: 1_100_000, plat_name: PLAT }, operation: operation(m), specification: {} }),
      "specification",
    ],
    [
      "an unknown delete method",
      "delete_route",
      (m) => ({ condition: { channel_id: 1_100_000, plat_name: PLAT }, operation: { operator_name: m, method: "some" } }),
      "operation.method",
    ],
    [
      "method specification without a specification",
      "delete_route",
      (m) => ({ condition: { channel_id: 1_100_000, plat_name: PLAT }, operation: { operator_name: m, method: "specification" } }),
      "specification",
    ],
    ["channel_id as a string", "query_route", (m) => ({ condition: { channel_id: "1100000" }, operation: operation(m) }), "condition.channel_id"],
  ];

  it.each(cases)("%s (%s)", async (_label, name, body, field) => {
    const marker = unique("bad");
    await withFaults(info, [{ kind: "http_error", status: 502, operation: name, match: marker, count: 1 }], async () => {
      const res = await post(canonical(name), body(marker));
      expect(res.status, res.text).toBe(400);
      expect(res.body).toMatchObject({ result: false, code: 1640001, code_name: "INVALID_ARGS" });
      expect((res.body.data as { errors: { path: string }[] }).errors.map((e) => e.path)).toContain(field);
      expect(await faultUnused(marker)).toBe(true);
    });
  });

  it("answers a body that is not JSON with 400, without calling GSE", async () => {
    const marker = unique("bad");
    await withFaults(info, [{ kind: "http_error", status: 502, operation: "add_route", match: marker, count: 1 }], async () => {
      const res = await post(canonical("add_route"), `{"metadata": {"plat_name": "${marker}"`);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ result: false, code_name: "INVALID_JSON" });
      expect(await faultUnused(marker)).toBe(true);
    });
  });

  it("refuses an oversized route list (body over the 1 MiB limit) with 413, without calling GSE", async () => {
    // The contract documents no list limit (docs/gse-contract.md §5.2, §7); the body limit is what bounds one.
    const marker = unique("big");
    const routes = Array.from({ length: 20_000 }, (_, i) => kafkaRoute(`route_${i}`, 501, `0ops_topic_${i}`));
    await withFaults(info, [{ kind: "http_error", status: 502, operation: "add_route", match: marker, count: 1 }], async () => {
      const res = await post(canonical("add_route"), addRouteBody(undefined, routes, marker));
      expect(res.status).toBe(413);
      expect(res.body).toMatchObject({ result: false, code: 1641301, code_name: "BODY_SIZE_LIMIT_EXCEED" });
      expect(await faultUnused(marker)).toBe(true);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// faults
// ---------------------------------------------------------------------------------------------

describe("GSE faults", () => {
  it("retries a read that GSE fails once with a 5xx, and answers success", async () => {
    const routes = [kafkaRoute(unique("route"), 501)];
    const channelId = await withRouteCounterLock(() => createChannel(routes));
    const operator = unique("op");
    await withFaults(info, [{ kind: "http_error", status: 503, operation: "query_route", match: operator, count: 1 }], async () => {
      const res = await post(canonical("query_route"), queryRouteBody(channelId, operator));
      expectOk(res);
      expect((res.body.data as Channel[])[0]?.route).toEqual(routes);
      // The fault's one hit was used: GSE did fail the first attempt.
      expect(await faultUnused(operator)).toBe(false);
    });
  });

  it("waits out GSE's Retry-After on a rate-limited read, then answers success", async () => {
    const channelId = await withRouteCounterLock(() => createChannel());
    const operator = unique("op");
    await withFaults(info, [{ kind: "rate_limit", operation: "query_route", match: operator, count: 1, retryAfterSeconds: 1 }], async () => {
      const started = Date.now();
      const res = await post(canonical("query_route"), queryRouteBody(channelId, operator));
      const elapsed = Date.now() - started;
      expectOk(res);
      expect(elapsed).toBeGreaterThanOrEqual(950);
      expect(await faultUnused(operator)).toBe(false);
    });
  });

  it("answers 502 with result false when GSE fails a write, and creates nothing", async () => {
    const name = unique("st");
    await withFaults(info, [{ kind: "http_error", status: 502, operation: "add_streamto", match: name }], async () => {
      const res = await post(canonical("add_streamto"), addStreamToBody(name));
      expect(res.status).toBe(502);
      expect(res.body).toMatchObject({ result: false, code: 1650200, code_name: "BAD_GATEWAY" });
    });
    const listed = await post(canonical("query_streamto"), { condition: { plat_name: PLAT }, operation: operation() });
    expectOk(listed);
    expect((listed.body.data as StreamToItem[]).filter((item) => item.stream_to.name === name)).toEqual([]);
  });

  it("answers 502 with result false when GSE fails a route update", async () => {
    const channelId = await withRouteCounterLock(() => createChannel());
    const operator = unique("op");
    await withFaults(info, [{ kind: "http_error", status: 504, operation: "update_route", match: operator }], async () => {
      const res = await post(canonical("update_route"), {
        condition: { channel_id: channelId, plat_name: PLAT },
        operation: operation(operator),
        specification: { route: [kafkaRoute(unique("route"), 777)] },
      });
      expect([502, 504]).toContain(res.status);
      expect(res.body).toMatchObject({ result: false });
    });
  });

  it("resolves an add_route that GSE applied but failed to answer by reading back: success, exactly one write", async () => {
    await withRouteCounterLock(async () => {
      const channelId = uniqueBuiltInChannelId();
      const operator = unique("op");
      const routes = [kafkaRoute(unique("route"), 501)];
      const before = await simulatorCounters(info);
      const res = await withFaults(info, [{ kind: "apply_then_fail", status: 502, operation: "add_route", match: operator }], () =>
        post(canonical("add_route"), addRouteBody(channelId, routes, operator)),
      );
      const after = await simulatorCounters(info);
      expectOk(res);
      expect(res.body.data).toMatchObject({ channel_id: channelId });
      expect((after.applied.add_route ?? 0) - (before.applied.add_route ?? 0)).toBe(1);
      // Sent once: the answer came from reading back, not from sending it again.
      expect((after.calls.add_route ?? 0) - (before.calls.add_route ?? 0)).toBe(1);
      expect(await routesOf(channelId)).toEqual(routes);
    });
  });

  it("reports an allocating add_route GSE applied but failed to answer (no read can find it) instead of allocating twice", async () => {
    await withRouteCounterLock(async () => {
      const operator = unique("op");
      const before = await simulatorCounters(info);
      const res = await withFaults(info, [{ kind: "apply_then_fail", status: 502, operation: "add_route", match: operator }], () =>
        post(canonical("add_route"), addRouteBody(undefined, undefined, operator)),
      );
      const after = await simulatorCounters(info);
      expect(res.status).toBe(502);
      expect(res.body).toMatchObject({ result: false });
      expect((after.calls.add_route ?? 0) - (before.calls.add_route ?? 0)).toBe(1);
    });
  });
});
