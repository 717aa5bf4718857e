/**
 * Every route of the route table, called by a caller that lacks the route's scope: each must
 * answer 403 APP_NO_PERMISSION naming that scope, before anything runs. One row per route in the
 * reliability report's scope table.
 */
import { describe, expect, it } from "vitest";
import { CALLBACK_SCOPE, grants, type RouteScope } from "../../lib/core/scopes.ts";
import { scopeTable } from "../../lib/routes.ts";
import { SCOPE, type ScopeRow } from "../helpers/reliability-reporter.ts";
import { callApi, useStack } from "../helpers/stack.ts";

const { info } = useStack();
const { monitor, reader, dispatcher } = info.credentials.scoped;

/** Values for path parameters: any will do, the scope is checked before the path is read. */
const PARAMETERS: Readonly<Record<string, string>> = {
  kind: "route",
  id: "1100001",
  version: "1",
  message_id: "scope-test",
  agent_id: "0:10.0.0.1",
  bk_biz_id: "2",
  app_name: "scopeapp",
  datasource: "trace",
};

const fill = (path: string): string => path.replace(/\{(\w+)\+?\}/g, (_, name: string) => encodeURIComponent(PARAMETERS[name] ?? "x"));

/** A stack caller whose scopes do not grant `scope`. */
function callerWithout(scope: RouteScope) {
  const caller = [dispatcher, reader, monitor].find((c) => !grants(c.scopes, scope));
  if (!caller) throw new Error(`no stack caller lacks ${scope}`);
  return caller;
}

const routes = [...scopeTable()];

describe("a caller without a route's scope", () => {
  it("has a row for every route of the table", () => {
    expect(routes.length).toBeGreaterThan(50);
  });

  it.for(routes.filter(([, scope]) => scope !== CALLBACK_SCOPE))(
    "%s (needs %s): 403 APP_NO_PERMISSION naming the scope",
    async ([route, scope], { annotate }) => {
      const [method, path] = route.split(" ") as [string, string];
      const caller = callerWithout(scope);
      const res = await callApi(info.gatewayUrl, fill(path), {
        method,
        headers: { "x-bkapi-authorization": JSON.stringify({ bk_app_code: caller.bk_app_code, bk_app_secret: caller.bk_app_secret }) },
        ...(method === "GET" || method === "DELETE" ? {} : { body: {} }),
      });
      expect(res.status, `${caller.bk_app_code}: ${res.text}`).toBe(403);
      expect(res.body).toMatchObject({ code_name: "APP_NO_PERMISSION", data: { required_scope: scope } });
      const row: ScopeRow = { route, scope, without: "403 APP_NO_PERMISSION" };
      await annotate(JSON.stringify(row), SCOPE);
    },
  );

  it.for(routes.filter(([, scope]) => scope === CALLBACK_SCOPE))(
    "%s (only GSE's callback key): 401 for any caller's credentials",
    async ([route, scope], { annotate }) => {
      const [method, path] = route.split(" ") as [string, string];
      const res = await callApi(info.gatewayUrl, fill(path), {
        method,
        headers: { "x-bkapi-authorization": JSON.stringify({ bk_app_code: monitor.bk_app_code, bk_app_secret: monitor.bk_app_secret }) },
        body: {},
      });
      expect(res.status, res.text).toBe(401);
      const row: ScopeRow = { route, scope, without: "401 UNAUTHENTICATED (the callback key is its only credential)" };
      await annotate(JSON.stringify(row), SCOPE);
    },
  );
});
