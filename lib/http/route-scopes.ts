/**
 * The scope a request's route needs (the route table, lib/routes.ts), for lib/http/handler.ts. A Lambda
 * bundle is given the scopes of its own function's routes at build time (GSE_ROUTE_SCOPES, taken from
 * the route table by lib/bundling.ts's esbuildDefine), so it carries neither the route table nor the
 * GSE paths (≈8 kB): esbuild drops the branch the define makes dead, and the route table's import with
 * it. API Gateway sends a function only its own routes (infra/api.ts). Run from source (tests, the
 * local stack, which serves every route), it reads the route table itself.
 */
import type { RouteScope } from "../core/scopes.ts";

/** The JSON of a function's route keys to their scopes; defined in Lambda bundles only. */
declare const GSE_ROUTE_SCOPES: string | undefined;

function bundledScopes(json: string): ReadonlyMap<string, RouteScope> {
  const scopes: Readonly<Record<string, RouteScope>> = JSON.parse(json);
  return new Map(Object.entries(scopes));
}

const scopesByRouteKey: Promise<ReadonlyMap<string, RouteScope>> =
  typeof GSE_ROUTE_SCOPES === "string" ? Promise.resolve(bundledScopes(GSE_ROUTE_SCOPES)) : import("../routes.ts").then((routes) => routes.scopeTable());

/** The scope a request's route needs; a route not in the table needs admin, so nothing unlisted is open. */
export async function requiredScope(routeKey: string | undefined): Promise<RouteScope> {
  return (routeKey && (await scopesByRouteKey).get(routeKey)) || "admin";
}
