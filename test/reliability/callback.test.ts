/**
 * GSE's slot callback is the one route without caller credentials: its URL's key is the check.
 * Forged calls, property-based (random keys, the key's own prefixes and extensions, the key in
 * the wrong place, other secrets of the stack), are 401 and leave nothing behind: no upstream
 * message, no reply on a command.
 */
import fc from "fast-check";
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { DETAIL, TRIES } from "../helpers/reliability-reporter.ts";
import { callApi, useStack } from "../helpers/stack.ts";

const { info, authHeader } = useStack();
const key = info.credentials.callbackKey;
const PATH = "/v1/gse/callback";

const forgedQuery = fc.oneof(
  fc.constant(""),
  fc
    .string({ maxLength: 64 })
    .filter((k) => k !== key)
    .map((k) => `?key=${encodeURIComponent(k)}`),
  fc.integer({ min: 1, max: key.length - 1 }).map((n) => `?key=${encodeURIComponent(key.slice(0, n))}`),
  fc.string({ minLength: 1, maxLength: 8 }).map((extra) => `?key=${encodeURIComponent(key + extra)}`),
  fc.constant(`?KEY=${encodeURIComponent(key)}`),
  fc.constant(`?token=${encodeURIComponent(key)}`),
  fc
    .constantFrom(info.credentials.caller.bk_app_secret, info.credentials.gse.slotToken, info.credentials.gse.appSecret)
    .map((s) => `?key=${encodeURIComponent(s)}`),
);

describe("the slot callback route", () => {
  it("answers every forged call 401 and records nothing", async ({ annotate }) => {
    const marker = `forged-${randomUUID().slice(0, 8)}`;
    let tries = 0;
    await fc.assert(
      fc.asyncProperty(forgedQuery, fc.boolean(), async (query, withCallerHeader) => {
        tries++;
        const res = await callApi(info.gatewayUrl, `${PATH}${query}`, {
          method: "POST",
          // The API's own credentials do not open the callback either.
          headers: withCallerHeader ? authHeader : {},
          body: { message_id: `${marker}.${tries}`, bk_agent_id: "0:10.0.0.1", content: "forged" },
        });
        expect(res.status).toBe(401);
        expect(res.body).toMatchObject({ result: false, code: 1640101 });
        expect(res.text).not.toContain(key);
      }),
      { numRuns: 40, seed: 606 },
    );
    const upstream = await callApi(info.gatewayUrl, "/v1/upstream-messages?limit=1000", { headers: authHeader });
    expect(upstream.status).toBe(200);
    expect(upstream.text).not.toContain(marker);
    await annotate(String(tries), TRIES);
    await annotate("401, nothing stored (no upstream message)", DETAIL);
  });

  it("takes the real key: a reply nobody asked for is kept as an upstream message", async () => {
    const marker = `genuine-${randomUUID().slice(0, 8)}`;
    const res = await callApi(info.gatewayUrl, `${PATH}?key=${encodeURIComponent(key)}`, {
      method: "POST",
      body: { message_id: marker, bk_agent_id: "0:10.0.0.1", content: "hello" },
    });
    expect(res.status).toBe(200);
    const upstream = await callApi(info.gatewayUrl, "/v1/upstream-messages?limit=1000", { headers: authHeader });
    expect(upstream.text).toContain(marker);
  });
});
