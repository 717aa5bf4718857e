import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { describe, expect, it, vi } from "vitest";
import { consoleViewer } from "../../../lib/console/data.ts";
import { loadConfig } from "../../../lib/core/config.ts";
import { createLogger } from "../../../lib/core/logger.ts";
import { CALLBACK_SCOPE, GSE_COMPATIBLE_SCOPES, grants, SCOPES } from "../../../lib/core/scopes.ts";
import { authenticate, authorize, callbackKeyAuthenticator } from "../../../lib/http/auth.ts";
import { httpHandler } from "../../../lib/http/handler.ts";
import { requiredScope } from "../../../lib/http/route-scopes.ts";
import { functionRouteScopes, ROUTES, scopeTable } from "../../../lib/routes.ts";
import type { FunctionKey } from "../../../lib/wiring.ts";
import { authHeader, captureOutput, httpEvent, lambdaContext } from "../../helpers/events.ts";

const callers = [
  { bk_app_code: "legacy", bk_app_secret: "legacy-secret-1" },
  { bk_app_code: "monitor", bk_app_secret: "monitor-secret-1", scopes: [...GSE_COMPATIBLE_SCOPES] },
  { bk_app_code: "reader", bk_app_secret: "reader-secret-1", scopes: ["gse:read" as const] },
  { bk_app_code: "ops", bk_app_secret: "ops-secret-1", scopes: ["gse:read" as const, "operator" as const] },
];

describe("scopeTable", () => {
  it("gives every route a scope, keyed as API Gateway's routeKey", () => {
    const table = scopeTable();
    expect(table.size).toBe(new Set(ROUTES.map((r) => `${r.method} ${r.path}`)).size);
    for (const [route, scope] of table) expect([...SCOPES, CALLBACK_SCOPE], route).toContain(scope);
  });

  it.each([
    ["POST /api/v2/data/query_route", "gse:read"],
    ["POST /api/v2/cluster/list_agent_state", "gse:read"],
    ["POST /api/v2/data/update_route", "gse:write"],
    ["POST /api/c/compapi/v2/gse/config_add_streamto", "gse:write"],
    ["POST /api/v2/cluster/dispatch_message", "gse:dispatch"],
    ["POST /v1/configs/{kind}/{id}/rollback", "operator"],
    ["POST /v1/commands/{message_id}/cancel", "operator"],
    ["POST /v1/fleet/agents/register", "operator"],
    ["POST /v1/fleet/agents/unregister", "operator"],
    ["GET /v1/console", "gse:read"],
    ["GET /v1/configs/{kind}/{id}/versions", "gse:read"],
    ["POST /v1/gse/callback", CALLBACK_SCOPE],
    ["POST /v1/plans", "operator"],
    ["POST /v1/plans/{plan_id}/apply", "operator"],
    ["GET /v1/plans/{plan_id}", "gse:read"],
    ["GET /v1/applies", "gse:read"],
    ["GET /v1/applies/{apply_id}", "gse:read"],
  ])("%s needs %s", (route, scope) => {
    expect(scopeTable().get(route)).toBe(scope);
  });

  it("asks admin for a route that is not in the table, so nothing unlisted is open", async () => {
    expect(await requiredScope("POST /v1/not-a-route")).toBe("admin");
    expect(await requiredScope(undefined)).toBe("admin");
  });

  it("looks up, run from source, every route's scope in the route table", async () => {
    for (const [route, scope] of scopeTable()) expect(await requiredScope(route), route).toBe(scope);
  });

  it("gives each function, for its bundle, exactly the routes it serves with their scopes: together the whole table", () => {
    const keys = [...new Set(ROUTES.map((route) => route.function))];
    const perFunction = keys.flatMap((key: FunctionKey) => Object.entries(functionRouteScopes(key)));
    expect(new Map(perFunction)).toEqual(scopeTable());
    expect(perFunction.length).toBe(scopeTable().size);
    for (const key of keys)
      for (const route of Object.keys(functionRouteScopes(key))) expect(ROUTES.find((r) => `${r.method} ${r.path}` === route)?.function, route).toBe(key);
    expect(functionRouteScopes("heartbeat")).toEqual({});
  });

  /** POSTs that change nothing: the query is a body. */
  const READS_BY_POST = new Set(["POST /v1/fleet/resolve"]);

  it("keeps bk-monitor's GSE scopes off every route of ours that changes state", () => {
    const ours = [...scopeTable()].filter(
      ([route, scope]) => /^(POST|PUT|PATCH|DELETE) \/v1\//.test(route) && !route.includes(" /v1/apm") && scope !== CALLBACK_SCOPE && !READS_BY_POST.has(route),
    );
    expect(ours.length).toBeGreaterThan(0);
    for (const [route, scope] of ours) expect(grants(GSE_COMPATIBLE_SCOPES, scope), route).toBe(false);
  });
});

describe("authorize", () => {
  const who = (code: string) => authenticate(JSON.stringify({ bk_app_code: code, bk_app_secret: `${code}-secret-1` }), callers);

  it("treats a caller configured without scopes as an admin: every route, as before scopes", () => {
    for (const scope of scopeTable().values()) expect(() => authorize(who("legacy"), scope)).not.toThrow();
  });

  it("refuses a caller outside its scopes with 403 APP_NO_PERMISSION naming the scope it lacks", () => {
    expect(() => authorize(who("reader"), "gse:write")).toThrow(
      expect.objectContaining({ status: 403, codeName: "APP_NO_PERMISSION", data: { required_scope: "gse:write" } }),
    );
    expect(() => authorize(who("monitor"), "operator")).toThrow(expect.objectContaining({ data: { required_scope: "operator" } }));
    expect(() => authorize(who("monitor"), "gse:dispatch")).not.toThrow();
    expect(() => authorize(who("ops"), "operator")).not.toThrow();
  });

  it("gives GSE's callback key its one route and nothing else", () => {
    const gse = callbackKeyAuthenticator("callback-key-0001")({ queryStringParameters: { key: "callback-key-0001" } });
    expect(() => authorize(gse, CALLBACK_SCOPE)).not.toThrow();
    expect(() => authorize(gse, "gse:read")).toThrow(expect.objectContaining({ status: 403 }));
  });
});

describe("consoleViewer", () => {
  it("shows the status page read-only unless the caller may operate", () => {
    expect(consoleViewer({ appCode: "reader", scopes: ["gse:read"] })).toEqual({ app_code: "reader", scopes: ["gse:read"], read_only: true });
    expect(consoleViewer({ appCode: "monitor", scopes: GSE_COMPATIBLE_SCOPES }).read_only).toBe(true);
    expect(consoleViewer({ appCode: "ops", scopes: ["gse:read", "operator"] }).read_only).toBe(false);
    expect(consoleViewer({ appCode: "legacy", scopes: ["admin"] }).read_only).toBe(false);
  });
});

describe("ApiCallers' scopes", () => {
  const env = { GSE_BASE_URL: "http://gse.local", GSE_APP_CODE: "bk_monitorv3", GSE_SLOT_ID: "37" };
  const load = (value: unknown) => loadConfig({ ...env, API_CALLERS: JSON.stringify(value) }, () => undefined, ["ApiCallers"]);

  it("reads a caller's scopes and leaves them absent when not given", () => {
    const config = load([
      { bk_app_code: "a", bk_app_secret: "aaaaaaaa" },
      { bk_app_code: "b", bk_app_secret: "bbbbbbbb", scopes: ["gse:read"] },
    ]);
    expect(config.callers?.map((c) => c.scopes)).toEqual([undefined, ["gse:read"]]);
  });

  it.each([
    ["an unknown scope", ["gse:everything"]],
    ["an empty list", []],
  ])("refuses %s, naming the setting but not the secret", (_what, scopes) => {
    expect(() => load([{ bk_app_code: "a", bk_app_secret: "secret-not-shown", scopes }])).toThrow(/API_CALLERS/);
    expect(() => load([{ bk_app_code: "a", bk_app_secret: "secret-not-shown", scopes }])).not.toThrow(/secret-not-shown/);
  });
});

describe("httpHandler", () => {
  captureOutput();
  const fn = vi.fn(async () => ({ data: "ran" }));
  const handler = httpHandler({ name: "scopes-test", logger: createLogger("scopes-test"), callers }, fn);
  const call = async (code: string, method: string, path: string) =>
    (await handler(httpEvent({ method, path, headers: authHeader(code, `${code}-secret-1`) }), lambdaContext())) as APIGatewayProxyStructuredResultV2;

  it("answers 403 naming the route's scope before the function runs, and runs it for a caller holding it", async () => {
    fn.mockClear();
    const refused = await call("reader", "POST", "/v1/configs/{kind}/{id}/rollback");
    expect(refused.statusCode).toBe(403);
    expect(JSON.parse(refused.body ?? "{}")).toMatchObject({
      result: false,
      code: 1640301,
      code_name: "APP_NO_PERMISSION",
      data: { required_scope: "operator" },
    });
    expect(fn).not.toHaveBeenCalled();
    expect((await call("ops", "POST", "/v1/configs/{kind}/{id}/rollback")).statusCode).toBe(200);
    expect((await call("reader", "GET", "/v1/fleet")).statusCode).toBe(200);
    expect(fn).toHaveBeenCalledTimes(2);
  });
});
