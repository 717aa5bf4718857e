import { readFileSync } from "node:fs";
import type { IncomingMessage } from "node:http";
import { join } from "node:path";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dispatchCommandSchema, MAX_COMMAND_CONTENT_BYTES, MAX_COMMAND_TARGETS } from "../../../lib/commands/schemas.ts";
import { LAMBDA_SYNC_PAYLOAD_LIMIT_BYTES, MAX_ROUTE_BODY_BYTES } from "../../../lib/http/handler.ts";
import { eventBytes, MalformedPathError, matchRoute, startGateway, toEvent, type Gateway } from "../../../local/gateway.ts";
import type { RouteDefinition } from "../../../lib/routes.ts";
import { ROOT } from "../../helpers/spawn-stack.ts";

const routes: RouteDefinition[] = [
  { method: "GET", path: "/health", function: "health", scope: "gse:read" },
  { method: "GET", path: "/configs/{kind}/{id}", function: "health", scope: "gse:read" },
  { method: "POST", path: "/files/{path+}", function: "health", scope: "gse:read" },
];

describe("matchRoute", () => {
  it("matches literal paths by method, ignoring a trailing slash as API Gateway does", () => {
    expect(matchRoute(routes, "GET", "/health")?.route.path).toBe("/health");
    expect(matchRoute(routes, "POST", "/health")).toBeUndefined();
    expect(matchRoute(routes, "GET", "/health/")?.route.path).toBe("/health");
    expect(matchRoute(routes, "GET", "/healthz")).toBeUndefined();
  });

  it("binds {name} to one decoded segment", () => {
    expect(matchRoute(routes, "GET", "/configs/route/1500%20123")?.pathParameters).toEqual({ kind: "route", id: "1500 123" });
    expect(matchRoute(routes, "GET", "/configs/route")).toBeUndefined();
    expect(matchRoute(routes, "GET", "/configs/route/1/extra")).toBeUndefined();
  });

  it("binds {name+} to the rest of the path", () => {
    expect(matchRoute(routes, "POST", "/files/a/b/c")?.pathParameters).toEqual({ path: "a/b/c" });
    expect(matchRoute(routes, "POST", "/files/")).toBeUndefined();
  });

  it("refuses a path parameter that is not valid percent-encoding with a MalformedPathError naming it, not a URIError", () => {
    expect(() => matchRoute(routes, "GET", "/configs/route/%E0%A4%A")).toThrow(MalformedPathError);
    expect(() => matchRoute(routes, "POST", "/files/a/%ZZ")).toThrow(MalformedPathError);
    expect(() => matchRoute(routes, "GET", "/configs/route/%E0%A4%A")).toThrow(/path: not valid percent-encoding: "%E0%A4%A"/);
  });
});

const DISPATCH: RouteDefinition = { method: "POST", path: "/api/v2/cluster/dispatch_message", function: "dispatch_message", scope: "gse:dispatch" };

/** API Gateway HTTP API's largest request line and headers together. */
const MAX_HEADER_BYTES = 10 * 1024;

/**
 * The largest valid dispatch body that escapes the most in the event: the most targets the schema
 * takes, each id's two quotes escaped, and content of nothing but quotes (each `\"` becomes `\\\"`),
 * padded to exactly the route's limit.
 */
function worstDispatchBody(): string {
  const content = '"'.repeat(MAX_COMMAND_CONTENT_BYTES);
  const skeleton = (ids: string[]) => JSON.stringify({ message_id: "m", agent_id_list: ids, content });
  const count = MAX_COMMAND_TARGETS;
  const empty = Buffer.byteLength(skeleton(Array.from({ length: count }, () => "")), "utf8");
  // Room left for the ids' characters, spread over them (a GSE 2.0 id takes up to 128).
  const room = MAX_ROUTE_BODY_BYTES - empty;
  const length = (i: number) => Math.floor(room / count) + (i < room % count ? 1 : 0);
  const ids = Array.from({ length: count }, (_, i) => `a${String(i).padStart(length(i) - 1, "0")}`);
  return skeleton(ids);
}

describe("Lambda's payload limit", () => {
  it("leaves room for the event around the largest dispatch body: the worst valid one, with 10 KB of headers, stays under 6 MB", () => {
    const body = worstDispatchBody();
    expect(Buffer.byteLength(body, "utf8")).toBe(MAX_ROUTE_BODY_BYTES);
    expect(dispatchCommandSchema.safeParse(JSON.parse(body)).success).toBe(true);
    const req = {
      url: DISPATCH.path,
      method: "POST",
      httpVersion: "1.1",
      headers: { "content-type": "application/json", host: "abcdef1234.execute-api.ap-southeast-1.amazonaws.com", "x-padding": "h".repeat(MAX_HEADER_BYTES) },
    } as unknown as IncomingMessage;
    const bytes = eventBytes(toEvent(req, Buffer.from(body), { route: DISPATCH, pathParameters: {} }, "203.0.113.9"));
    expect(bytes).toBeLessThan(LAMBDA_SYNC_PAYLOAD_LIMIT_BYTES);
  });

  it("is stated in docs/api.md, with dispatch_message's own limit", () => {
    const docs = readFileSync(join(ROOT, "docs/api.md"), "utf8");
    expect(docs).toContain(LAMBDA_SYNC_PAYLOAD_LIMIT_BYTES.toLocaleString("en"));
    expect(docs).toContain(`${MAX_ROUTE_BODY_BYTES / (1024 * 1024)} MiB (${MAX_ROUTE_BODY_BYTES.toLocaleString("en")} bytes)`);
  });
});

describe("startGateway payload limit", () => {
  let gateway: Gateway;
  const invoked: unknown[] = [];
  beforeAll(async () => {
    gateway = await startGateway({
      port: 0,
      routes: [DISPATCH],
      // Stands in for the function: these tests are about what reaches it.
      invoke: async (_fn, event) => {
        invoked.push(event);
        return { statusCode: 200, body: "{}" };
      },
    });
  });
  afterAll(() => gateway.close());

  const post = async (body: string) => {
    invoked.length = 0;
    const res = await request(`${gateway.url}${DISPATCH.path}`, { method: "POST", headers: { "content-type": "application/json" }, body });
    return { status: res.statusCode, text: await res.body.text() };
  };

  it("refuses a body of Lambda's limit or more with API Gateway's 413, and never invokes the function", async () => {
    const res = await post(JSON.stringify({ pad: "x".repeat(LAMBDA_SYNC_PAYLOAD_LIMIT_BYTES) }));
    expect(res).toEqual({ status: 413, text: '{"message":"Request Entity Too Large"}' });
    expect(invoked).toEqual([]);
  });

  it("refuses a body under the limit whose event is over it (the body is escaped inside the event)", async () => {
    const body = JSON.stringify({ pad: '"'.repeat(2.5 * 1024 * 1024) });
    expect(Buffer.byteLength(body)).toBeLessThan(LAMBDA_SYNC_PAYLOAD_LIMIT_BYTES);
    const res = await post(body);
    expect(res.status).toBe(413);
    expect(invoked).toEqual([]);
  });

  it("invokes the function with an event of one byte under the limit, and refuses one of exactly the limit", async () => {
    const sized = (eventSize: number, around: number): string => {
      // The body adds its length and its four escaped quotes; content-length grows from 1 digit ("{}") to 7.
      const bodyBytes = eventSize - around - 6 - 4;
      return `{"pad":"${"x".repeat(bodyBytes - '{"pad":""}'.length)}"}`;
    };
    await post("{}");
    const around = eventBytes(invoked[0] as Parameters<typeof eventBytes>[0]) - 2;
    const under = await post(sized(LAMBDA_SYNC_PAYLOAD_LIMIT_BYTES - 1, around));
    expect(under.status).toBe(200);
    expect(eventBytes(invoked[0] as Parameters<typeof eventBytes>[0])).toBe(LAMBDA_SYNC_PAYLOAD_LIMIT_BYTES - 1);
    const at = await post(sized(LAMBDA_SYNC_PAYLOAD_LIMIT_BYTES, around));
    expect(at.status).toBe(413);
    expect(invoked).toEqual([]);
  });
});
