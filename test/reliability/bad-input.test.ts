/**
 * Bad input, property-based, on every route of the route table: whatever the body, the answer is
 * never a 5xx caused by us, a refusal is a 4xx in the envelope with a code and a message, and
 * nothing reaches GSE as a write.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ROUTES } from "../../lib/routes.ts";
import { TRIES } from "../helpers/reliability-reporter.ts";
import { readChannel } from "../../lib/gse/objects.ts";
import { configStore, directGse, route as routeRef } from "../helpers/configs.ts";
import { callApi, simulatorCounters, uniqueBuiltInChannelId, useStack, withStackLock } from "../helpers/stack.ts";

const { info, authHeader, dynamo } = useStack();

/** JSON that stresses a parser and a validator: unicode, prototype keys, long lists, nesting. */
const nastyJson = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.dictionary(fc.constantFrom("__proto__", "constructor", "prototype", "agent_id_list", "metadata", "condition", "operation"), fc.jsonValue({ maxDepth: 3 })),
  fc.record({ agent_id_list: fc.array(fc.oneof(fc.string({ unit: "binary" }), fc.integer(), fc.constant(null)), { maxLength: 30 }) }),
  fc.record({ message_id: fc.string({ minLength: 65, maxLength: 200 }), agent_id_list: fc.constant(["0:10.0.0.1"]), content: fc.jsonValue() }),
  fc.integer({ min: 1, max: 3000 }).map((depth) => JSON.parse(`${"[".repeat(depth)}${"]".repeat(depth)}`) as unknown),
);

/** Bodies that are not JSON at all, or JSON with trailing garbage. */
const notJson = fc.oneof(
  fc.string({ unit: "binary", maxLength: 200 }).filter((s) => {
    try {
      JSON.parse(s);
      return false;
    } catch {
      return true;
    }
  }),
  fc.constant('{"a":1}}'),
  fc.constant("\u0000"),
);

const writes = ["add_streamto", "update_streamto", "delete_streamto", "add_route", "update_route", "delete_route", "dispatch_message"];
/**
 * Config writes GSE applied. dispatch_message is left out of the count: other files' commands
 * retry in the background at any time; that a bad dispatch body never reaches GSE is proven per
 * request in test/integration/gse/dispatch.test.ts.
 */
const appliedWrites = async (): Promise<number> => {
  const { applied } = await simulatorCounters(info);
  return writes.filter((op) => op !== "dispatch_message").reduce((sum, op) => sum + (applied[op] ?? 0), 0);
};

/**
 * What a loose GSE object (route entry, kafka, label) carries on as an extra key, as raw JSON text
 * (1e400 does not survive JSON.stringify): each is something DynamoDB cannot store.
 */
const unstorableValue = fc.oneof(
  // Deep nesting: beyond the 16 levels a body may have.
  fc.integer({ min: 17, max: 60 }).map((depth) => `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`),
  fc.integer({ min: 17, max: 60 }).map((depth) => `${"[".repeat(depth)}${"]".repeat(depth)}`),
  // Huge numbers: Infinity once parsed, or more digits than a number keeps exactly; and absurdly tiny ones.
  fc.constantFrom("1e400", "-1e309", "5e-324", "1e-200"),
  fc.bigInt({ min: 2n ** 53n, max: 10n ** 40n }).map((n) => (n % 2n === 0n ? String(n) : `-${n}`)),
  // Empty keys, at the extra itself or below it.
  fc.jsonValue({ maxDepth: 2 }).map((value) => JSON.stringify({ "": value })),
  fc.jsonValue({ maxDepth: 2 }).map((value) => JSON.stringify({ ok: { "": value } })),
);

/** The above, and big extras: recorded twice (request and document), over an item's 400 KB. */
const unstorableExtra = fc.oneof(
  unstorableValue,
  fc.integer({ min: 200, max: 600 }).map((kb) => JSON.stringify("x".repeat(kb * 1024))),
);

/** A route's path as a caller that may call it sends it: GSE's callback carries its key in the URL. */
const callablePath = (route: (typeof ROUTES)[number]): string =>
  route.auth === "callback-key" ? `${route.path}?key=${encodeURIComponent(info.credentials.callbackKey)}` : route.path;

describe.each(ROUTES.filter((r) => r.method === "POST").map((r) => [`${r.method} ${r.path}`, r] as const))("%s", (_key, route) => {
  it("answers any JSON body with a 2xx or a clear 4xx, never a 5xx", async ({ annotate }) => {
    await fc.assert(
      fc.asyncProperty(nastyJson, async (body) => {
        const res = await callApi(info.gatewayUrl, callablePath(route), { method: route.method, headers: authHeader, body: JSON.stringify(body) });
        expect(res.status, res.text.slice(0, 300)).toBeLessThan(500);
        expect(res.body).toHaveProperty("code");
        expect(typeof res.body.message).toBe("string");
        if (res.status >= 400) {
          expect(res.body.result).toBe(false);
          // 404 only where the path names an object (here a placeholder no object has).
          const clear = [400, 403, 413, ...(route.path.includes("{") ? [404] : [])];
          expect(clear, `${res.status} ${res.text.slice(0, 200)}`).toContain(res.status);
        }
      }),
      { numRuns: 12, seed: 4242 },
    );
    await annotate("12", TRIES);
  });

  it("answers a body carrying what DynamoDB cannot store with 400 INVALID_ARGS naming the field, never a 5xx", async ({ annotate }) => {
    await fc.assert(
      fc.asyncProperty(unstorableValue, async (raw) => {
        const text = `{"bk_username":"admin","extra":${raw}}`;
        const res = await callApi(info.gatewayUrl, callablePath(route), { method: route.method, headers: authHeader, body: text });
        expect(res.status, `${text.slice(0, 100)} → ${res.text.slice(0, 200)}`).toBe(400);
        expect(res.body).toMatchObject({ result: false, code_name: "INVALID_ARGS" });
        const paths = ((res.body.data as { errors?: { path: string }[] }).errors ?? []).map((e) => e.path);
        expect(paths.length).toBeGreaterThan(0);
        for (const path of paths) expect(path.startsWith("extra"), path).toBe(true);
      }),
      { numRuns: 8, seed: 31 },
    );
    await annotate("8", TRIES);
  });

  it("answers a body that is not JSON with 400 INVALID_JSON", async ({ annotate }) => {
    await fc.assert(
      fc.asyncProperty(notJson, async (text) => {
        const res = await callApi(info.gatewayUrl, callablePath(route), { method: route.method, headers: authHeader, body: text });
        expect(res.status, text).toBe(400);
        expect(res.body).toMatchObject({ result: false, code_name: "INVALID_JSON" });
      }),
      { numRuns: 5, seed: 7 },
    );
    await annotate("5", TRIES);
  });
});

describe("writes", () => {
  it("reach GSE only from valid bodies: a storm of invalid ones applies nothing", async ({ annotate }) => {
    const writeRoutes = ROUTES.filter((r) => writes.includes(r.function));
    // Other files write too; the lock keeps their writes out of this count.
    await withStackLock(info, "add-route-counters", async () => {
      const before = await appliedWrites();
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...writeRoutes), nastyJson, async (route, body) => {
          const res = await callApi(info.gatewayUrl, route.path, { method: "POST", headers: authHeader, body: JSON.stringify(body) });
          expect(res.status).toBe(400);
        }),
        { numRuns: 60, seed: 99 },
      );
      expect(await appliedWrites()).toBe(before);
    });
    await annotate("60", TRIES);
  });

  it("refuses a body over the 1 MiB limit with 413 before parsing it", async () => {
    const big = JSON.stringify({ agent_id_list: Array.from({ length: 100_000 }, (_, i) => `0:10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`) });
    const res = await callApi(info.gatewayUrl, "/api/v2/cluster/list_agent_state", { method: "POST", headers: authHeader, body: big });
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ result: false, code: 1641301 });
  });
});

/** Where in an add_route body the extra goes: a route entry, its stream_to, its kafka, or the label. */
const extraSpot = fc.constantFrom("entry", "stream_to", "kafka", "label");

function addRouteWithExtra(channelId: number, spot: string, rawExtra: string): string {
  const kafka = { topic_name: `fuzz_${channelId}`, ...(spot === "kafka" ? { extra: "__marker__" } : {}) };
  const streamTo = { stream_to_id: 501, kafka, ...(spot === "stream_to" ? { extra: "__marker__" } : {}) };
  const entry = { name: "r1", stream_to: streamTo, ...(spot === "entry" ? { extra: "__marker__" } : {}) };
  const metadata = { channel_id: channelId, plat_name: "fuzz", ...(spot === "label" ? { label: { bk_biz_id: 2, extra: "__marker__" } } : {}) };
  // A function replacer: the raw text may hold "$&", which a replacement string would expand.
  return JSON.stringify({ metadata, operation: { operator_name: "admin" }, route: [entry] }).replace('"__marker__"', () => rawExtra);
}

describe("valid-shaped config bodies carrying what DynamoDB cannot store", () => {
  const store = configStore(info, dynamo);
  const gse = directGse(info);

  it("answer 400 or 413 naming the field, never a 5xx, and leave nothing of the channel in GSE or the configs table", async ({ annotate }) => {
    await fc.assert(
      fc.asyncProperty(extraSpot, unstorableExtra, async (spot, raw) => {
        // Each try has a channel of its own: what it left is checked per object, not by global counters.
        const channelId = uniqueBuiltInChannelId();
        const res = await callApi(info.gatewayUrl, "/api/v2/data/add_route", {
          method: "POST",
          headers: authHeader,
          body: addRouteWithExtra(channelId, spot, raw),
        });
        expect([400, 413], `${res.status} ${res.text.slice(0, 300)}`).toContain(res.status);
        expect(res.body).toMatchObject({ result: false });
        const data = res.body.data as { errors?: { path: string }[]; field?: string };
        const named = res.status === 400 ? (data.errors ?? []).map((e) => e.path) : [data.field ?? ""];
        const where = { entry: "route.0", stream_to: "route.0.stream_to", kafka: "route.0.stream_to.kafka", label: "metadata.label" }[spot] ?? "";
        // The field named is the extra (or inside it), or the object holding an empty key.
        for (const path of named) expect(path.startsWith(where), `${path} for an extra in ${where}`).toBe(true);
        expect(await store.getHead(routeRef(channelId))).toBeUndefined();
        expect(await store.listAddAttempts(routeRef(channelId), 1)).toEqual([]);
        expect(await readChannel(gse, channelId, "admin")).toBeUndefined();
      }),
      { numRuns: 30, seed: 2424 },
    );
    await annotate("30", TRIES);
  });
});
