import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { ConflictError } from "../../../lib/core/errors.ts";
import { browserAuthenticator } from "../../../lib/http/auth.ts";
import { httpHandler, MAX_ROUTE_BODY_BYTES } from "../../../lib/http/handler.ts";
import { createLogger, registerSecrets } from "../../../lib/core/logger.ts";
import { authHeader, captureOutput, httpEvent, lambdaContext } from "../../helpers/events.ts";

const CALLER_SECRET = "handler-test-secret-9f8e";
const callers = [{ bk_app_code: "tester", bk_app_secret: CALLER_SECRET }];
const auth = authHeader("tester", CALLER_SECRET);

// Powertools writes errors to stderr and everything else to stdout: both are kept.
const captured = captureOutput();

const bodySchema = z.object({
  agent_id_list: z.array(z.string().min(1)).min(1),
  options: z.object({ limit: z.number().int().positive() }).optional(),
});

function build(fn: Parameters<typeof httpHandler<typeof bodySchema>>[1], maxBodyBytes?: number) {
  return httpHandler({ name: "test", logger: createLogger("test"), callers, body: bodySchema, ...(maxBodyBytes ? { maxBodyBytes } : {}) }, fn);
}

async function call(handler: ReturnType<typeof build>, event: ReturnType<typeof httpEvent>) {
  const result = (await handler(event, lambdaContext())) as APIGatewayProxyStructuredResultV2;
  return { status: result.statusCode, headers: result.headers ?? {}, body: JSON.parse(result.body ?? "null") as Record<string, unknown> };
}

const echo = build(async ({ body, caller }) => ({ data: { ids: body.agent_id_list, app: caller.appCode } }));

describe("httpHandler", () => {
  it("answers validated input in the GSE envelope with result, code, message, data and request_id", async () => {
    const res = await call(echo, httpEvent({ headers: auth, body: JSON.stringify({ agent_id_list: ["0:10.0.0.1"], bk_username: "admin" }) }));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ result: true, code: 0, message: "", data: { ids: ["0:10.0.0.1"], app: "tester" }, request_id: "gateway-request-id" });
  });

  it("echoes the caller's X-Bkapi-Request-Id in the body and the response headers", async () => {
    const res = await call(echo, httpEvent({ headers: { ...auth, "X-Bkapi-Request-Id": "caller-req-42" }, body: '{"agent_id_list":["a"]}' }));
    expect(res.body.request_id).toBe("caller-req-42");
    expect(res.headers["x-bkapi-request-id"]).toBe("caller-req-42");
  });

  it("does not echo a request id that could forge log lines", async () => {
    const res = await call(echo, httpEvent({ headers: { ...auth, "x-request-id": 'x"\n{"level":"ERROR"}' }, body: '{"agent_id_list":["a"]}' }));
    expect(res.body.request_id).toBe("gateway-request-id");
  });

  it("answers 400 with the path of every bad field and does not run the handler", async () => {
    const fn = vi.fn(async () => ({ data: null }));
    const res = await call(build(fn), httpEvent({ headers: auth, body: JSON.stringify({ agent_id_list: [""], options: { limit: -1 } }) }));
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ result: false, code: 1640001, code_name: "INVALID_ARGS" });
    const paths = (res.body.data as { errors: { path: string }[] }).errors.map((e) => e.path);
    expect(paths).toEqual(expect.arrayContaining(["agent_id_list.0", "options.limit"]));
    expect(res.body.message).toContain("agent_id_list.0");
    expect(fn).not.toHaveBeenCalled();
  });

  it("answers 400 INVALID_JSON for a malformed body", async () => {
    const res = await call(echo, httpEvent({ headers: auth, body: '{"agent_id_list": [' }));
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ result: false, code_name: "INVALID_JSON" });
  });

  it("answers 400 for a missing body on a route that takes one", async () => {
    const res = await call(echo, httpEvent({ headers: auth }));
    expect(res.status).toBe(400);
    expect((res.body.data as { errors: { path: string }[] }).errors[0]?.path).toBe("agent_id_list");
  });

  it("parses a base64-encoded body as API Gateway sends binary payloads", async () => {
    const body = Buffer.from('{"agent_id_list":["b64"]}').toString("base64");
    const res = await call(echo, httpEvent({ headers: auth, body, isBase64Encoded: true }));
    expect(res.body.data).toMatchObject({ ids: ["b64"] });
  });

  it("refuses a body over the limit with 413 before parsing it", async () => {
    const res = await call(
      build(async () => ({ data: null }), 64),
      httpEvent({ headers: auth, body: JSON.stringify({ agent_id_list: ["x".repeat(100)] }) }),
    );
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ result: false, code: 1641301 });
  });

  it("names the limit and what to do instead in the 413's message", async () => {
    const limited = httpHandler(
      { name: "t", logger: createLogger("t"), callers, body: bodySchema, maxBodyBytes: 64, maxBodyHint: "split the list into several calls" },
      async () => ({ data: null }),
    );
    const res = await call(limited, httpEvent({ headers: auth, body: JSON.stringify({ agent_id_list: ["x".repeat(100)] }) }));
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ code: 1641301, code_name: "BODY_SIZE_LIMIT_EXCEED" });
    expect(res.body.message).toMatch(/request body is \d+ bytes; the limit is 64 bytes: split the list into several calls/);
  });

  it("refuses to build a route whose body limit would not fit in Lambda's payload", () => {
    const build = () => httpHandler({ name: "t", logger: createLogger("t"), callers, maxBodyBytes: MAX_ROUTE_BODY_BYTES + 1 }, async () => ({ data: null }));
    expect(build).toThrow(/would not fit in Lambda's payload/);
    expect(() =>
      httpHandler({ name: "t", logger: createLogger("t"), callers, maxBodyBytes: MAX_ROUTE_BODY_BYTES }, async () => ({ data: null })),
    ).not.toThrow();
  });

  it("drops __proto__ and constructor keys so they never reach an object's prototype", async () => {
    const seen: unknown[] = [];
    const loose = httpHandler({ name: "t", logger: createLogger("t"), callers, body: z.record(z.string(), z.unknown()) }, async ({ body }) => {
      seen.push(body);
      return { data: Object.keys(body) };
    });
    const res = await call(
      loose as ReturnType<typeof build>,
      httpEvent({ headers: auth, body: '{"a":1,"__proto__":{"polluted":true},"constructor":{"x":1}}' }),
    );
    expect(res.body.data).toEqual(["a"]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each([
    ["no credentials", {}],
    ["a malformed header", { "x-bkapi-authorization": "{not json" }],
    ["a wrong secret", authHeader("tester", "wrong-secret")],
  ])("answers 401 for %s, never 500, and does not run the handler", async (_label, headers) => {
    const fn = vi.fn(async () => ({ data: null }));
    const res = await call(build(fn), httpEvent({ headers, body: '{"agent_id_list":["a"]}' }));
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ result: false, code: 1640101, code_name: "UNAUTHENTICATED" });
    expect(fn).not.toHaveBeenCalled();
  });

  it("maps a typed error to its status and keeps its data", async () => {
    const res = await call(
      build(async () => {
        throw new ConflictError("config changed meanwhile", { current_version: 7 });
      }),
      httpEvent({ headers: auth, body: '{"agent_id_list":["a"]}' }),
    );
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ result: false, code: 1640901, message: "config changed meanwhile", data: { current_version: 7 } });
  });

  it("answers an unexpected error with a generic 500 and logs it without secrets", async () => {
    registerSecrets([CALLER_SECRET]);
    const res = await call(
      build(async () => {
        throw new Error(`boom while using ${CALLER_SECRET}`);
      }),
      httpEvent({ headers: auth, body: '{"agent_id_list":["a"]}' }),
    );
    expect(res.status).toBe(500);
    expect(res.body).toMatchObject({ result: false, message: "internal error", data: null });
    expect(JSON.stringify(res.body)).not.toContain("boom");
    const logs = captured.text();
    expect(logs).toContain("request failed");
    expect(logs).toContain("boom while using [REDACTED]");
    expect(logs).not.toContain(CALLER_SECRET);
  });

  it("writes one structured access log line per request without the authorization header", async () => {
    await call(echo, httpEvent({ headers: auth, body: '{"agent_id_list":["a"]}' }));
    const lines = captured
      .text()
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const access = lines.filter((l) => l.message === "request");
    expect(access).toHaveLength(1);
    expect(access[0]).toMatchObject({ route: "test", status: 200, app_code: "tester", request_id: "gateway-request-id" });
    expect(captured.text()).not.toContain(CALLER_SECRET);
  });

  describe("credentials in the body (legacy ESB form, docs/gse-contract.md §2.1)", () => {
    const esbPath = "/api/c/compapi/v2/gse/get_agent_status/";
    const withCredentials = (secret: string) => JSON.stringify({ agent_id_list: ["a"], bk_app_code: "tester", bk_app_secret: secret });

    it("accepts them on an ESB path when there is no header", async () => {
      const res = await call(echo, httpEvent({ path: esbPath, body: withCredentials(CALLER_SECRET) }));
      expect(res.status).toBe(200);
      expect(res.body.data).toMatchObject({ app: "tester" });
    });

    it.each([
      ["on a gateway path", "/api/v2/cluster/list_agent_state", withCredentials(CALLER_SECRET), {}],
      ["when they are wrong", esbPath, withCredentials("wrong-secret"), {}],
      ["when a header is there too: the header decides", esbPath, withCredentials(CALLER_SECRET), authHeader("tester", "wrong-secret")],
    ])("refuses them %s (401)", async (_label, path, body, headers) => {
      const res = await call(echo, httpEvent({ path, body, headers }));
      expect(res.status).toBe(401);
    });
  });
});

describe("httpHandler for a page a browser opens", () => {
  const page = httpHandler({ name: "page", logger: createLogger("test"), authenticate: browserAuthenticator(callers) }, async ({ caller }) => ({
    text: `<!doctype html><p>hello ${caller.appCode}</p>`,
    contentType: "text/html; charset=utf-8",
    headers: { "cache-control": "no-store" },
  }));
  const get = async (headers: Record<string, string>) =>
    (await page(httpEvent({ method: "GET", path: "/v1/console", headers }), lambdaContext())) as APIGatewayProxyStructuredResultV2;

  it("answers a text reply as it is, with its content type, to HTTP Basic credentials", async () => {
    const res = await get({ Authorization: `Basic ${Buffer.from(`tester:${CALLER_SECRET}`).toString("base64")}` });
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe("<!doctype html><p>hello tester</p>");
    expect(res.headers).toMatchObject({ "content-type": "text/html; charset=utf-8", "cache-control": "no-store", "x-bkapi-request-id": "gateway-request-id" });
  });

  it("answers missing or wrong credentials with 401, the envelope and a Basic challenge", async () => {
    const attempts: Record<string, string>[] = [{}, { Authorization: `Basic ${Buffer.from("tester:guess").toString("base64")}` }];
    for (const headers of attempts) {
      const res = await get(headers);
      expect(res.statusCode).toBe(401);
      expect(res.headers).toMatchObject({ "www-authenticate": 'Basic realm="gse-control", charset="UTF-8"' });
      expect(JSON.parse(res.body ?? "{}")).toMatchObject({ result: false, code: 1640101, code_name: "UNAUTHENTICATED" });
    }
  });
});

describe("httpHandler near the function's timeout (issue 24, defect 4)", () => {
  // 500 ms of margin before Lambda's timeout (REQUEST_TIMEOUT_MARGIN_MS): the deadline is 100 ms away.
  const nearTimeout = () => ({ ...lambdaContext(), getRemainingTimeInMillis: () => 600 });
  const never = new Promise<never>(() => {});

  it("answers 504 REQUEST_TIMEOUT with outcome unknown and the object and where to check it, not 500", async () => {
    const slow = build(async ({ deadline }) => {
      deadline.working({ object: "route#123", check: "GET /v1/configs/route/123/versions" });
      return never;
    });
    const event = httpEvent({ headers: auth, body: '{"agent_id_list":["a"]}' });
    const result = (await slow(event, nearTimeout())) as APIGatewayProxyStructuredResultV2;
    const body = JSON.parse(result.body ?? "null") as Record<string, unknown>;
    expect(result.statusCode).toBe(504);
    expect(body).toMatchObject({ result: false, code: 1650402, code_name: "REQUEST_TIMEOUT" });
    expect(body.data).toEqual({ outcome: "unknown", object: "route#123", check: "GET /v1/configs/route/123/versions" });
    expect(body.message).toContain("GET /v1/configs/route/123/versions");
  });

  it("answers 504 with outcome unknown when the handler named nothing yet", async () => {
    const slow = build(async () => never);
    const result = (await slow(httpEvent({ headers: auth, body: '{"agent_id_list":["a"]}' }), nearTimeout())) as APIGatewayProxyStructuredResultV2;
    expect(result.statusCode).toBe(504);
    expect(JSON.parse(result.body ?? "null")).toMatchObject({ code_name: "REQUEST_TIMEOUT", data: { outcome: "unknown" } });
  });

  it("answers a handler that finishes before the deadline as usual", async () => {
    const result = (await echo(httpEvent({ headers: auth, body: '{"agent_id_list":["a"]}' }), nearTimeout())) as APIGatewayProxyStructuredResultV2;
    expect(result.statusCode).toBe(200);
  });
});
