/**
 * Bad input, property-based, on every route of the route table: whatever the body, the answer is
 * never a 5xx caused by us, a refusal is a 4xx in the envelope with a code and a message, and
 * nothing reaches GSE as a write.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ROUTES } from "../../lib/routes.ts";
import { TRIES } from "../helpers/reliability-reporter.ts";
import { callApi, simulatorCounters, useStack, withStackLock } from "../helpers/stack.ts";

const { info, authHeader } = useStack();

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
