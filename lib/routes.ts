/**
 * Every HTTP route, by path, to the function that serves it (lib/wiring.ts). `infra/` makes them
 * API Gateway routes; `local/` serves them from the local gateway.
 */
import type { OperationName } from "./gse/operations.ts";
import { OPERATION_PATHS, pathVariants, withoutTrailingSlash } from "./gse/paths.ts";
import type { FunctionKey } from "./wiring.ts";
import { CALLBACK_SCOPE, type RouteScope } from "./core/scopes.ts";

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export interface RouteDefinition {
  readonly method: HttpMethod;
  readonly path: string;
  readonly function: FunctionKey;
  /**
   * How callers prove who they are: `callers` (default), the X-Bkapi-Authorization header of
   * ApiCallers; `callback-key`, the `?key=` GSE's slot callback URL carries (GSE sends no credentials);
   * `browser`, the callers' header or the same credentials by HTTP Basic (the status page: a
   * browser cannot add the header, it can answer a Basic challenge).
   */
  readonly auth?: "callers" | "callback-key" | "browser";
  /**
   * The scope a caller needs (lib/core/scopes.ts): checked after authentication, before anything
   * runs; a caller without it gets 403 APP_NO_PERMISSION naming it. Required, so a new route
   * cannot be added without deciding who may call it.
   */
  readonly scope: RouteScope;
}

/** The GSE operations we serve: the ones bk-monitor calls (docs/gse-contract.md §9). */
export const GSE_FUNCTIONS = [
  "add_streamto",
  "update_streamto",
  "delete_streamto",
  "query_streamto",
  "add_route",
  "update_route",
  "delete_route",
  "query_route",
  "list_agent_state",
  "get_agent_status",
  "dispatch_message",
] as const satisfies readonly (OperationName & FunctionKey)[];

/** GSE's reads, its config writes, and dispatch: the three scopes GSE's own clients hold. */
const GSE_SCOPES: Readonly<Record<(typeof GSE_FUNCTIONS)[number], RouteScope>> = {
  add_streamto: "gse:write",
  update_streamto: "gse:write",
  delete_streamto: "gse:write",
  query_streamto: "gse:read",
  add_route: "gse:write",
  update_route: "gse:write",
  delete_route: "gse:write",
  query_route: "gse:read",
  list_agent_state: "gse:read",
  get_agent_status: "gse:read",
  dispatch_message: "gse:dispatch",
};

/**
 * Every HTTP route; all of them require caller credentials (lib/http/auth.ts). Each GSE
 * operation answers on every path a client may use: the gateway path with and without the
 * `/api/bk-gse/prod` prefix, and the ESB path. API Gateway matches a path with a trailing slash
 * to the route without one, so each path is listed once, without it.
 */
export const ROUTES: readonly RouteDefinition[] = [
  // These two describe the service itself, not a version of its API, so they stay at the root:
  // a probe or an OpenAPI tool finds them without knowing which versions exist.
  { method: "GET", path: "/health", function: "health", scope: "gse:read" },
  { method: "GET", path: "/openapi.json", function: "openapi", scope: "gse:read" },
  // Our own API is under /v1/; the GSE-compatible paths at the end keep GSE's spelling exactly.
  { method: "GET", path: "/v1/fleet", function: "fleet_summary", scope: "gse:read" },
  { method: "GET", path: "/v1/fleet/agents", function: "fleet_agents", scope: "gse:read" },
  { method: "POST", path: "/v1/fleet/agents/register", function: "fleet_register", scope: "operator" },
  { method: "POST", path: "/v1/fleet/agents/unregister", function: "fleet_unregister", scope: "operator" },
  { method: "GET", path: "/v1/fleet/agents/{agent_id}/history", function: "fleet_history", scope: "gse:read" },
  { method: "PUT", path: "/v1/fleet/agents/{agent_id}/labels", function: "fleet_labels_put", scope: "operator" },
  { method: "PATCH", path: "/v1/fleet/agents/{agent_id}/labels", function: "fleet_labels_patch", scope: "operator" },
  { method: "POST", path: "/v1/fleet/resolve", function: "fleet_resolve", scope: "gse:read" },
  // Configuration versions; {kind} is route or streamto, {id} the channel or stream_to id.
  { method: "GET", path: "/v1/configs/{kind}/{id}/versions", function: "config_history", scope: "gse:read" },
  { method: "GET", path: "/v1/configs/{kind}/{id}/versions/{version}", function: "config_history", scope: "gse:read" },
  { method: "GET", path: "/v1/configs/{kind}/{id}/diff", function: "config_history", scope: "gse:read" },
  { method: "POST", path: "/v1/configs/{kind}/{id}/rollback", function: "config_rollback", scope: "operator" },
  { method: "GET", path: "/v1/configs/{kind}/{id}/drift", function: "config_drift", scope: "gse:read" },
  // Tracked commands. A message_id holding "/" is sent URL-encoded (%2F).
  { method: "GET", path: "/v1/commands", function: "command_list", scope: "gse:read" },
  { method: "GET", path: "/v1/commands/{message_id}", function: "command_get", scope: "gse:read" },
  { method: "POST", path: "/v1/commands/{message_id}/cancel", function: "command_cancel", scope: "operator" },
  // Rollouts: a command in waves with bake, health gate and undo (docs/rollouts.md §3).
  { method: "POST", path: "/v1/rollouts", function: "rollout_start", scope: "operator" },
  { method: "GET", path: "/v1/rollouts", function: "rollout_list", scope: "gse:read" },
  { method: "GET", path: "/v1/rollouts/{rollout_id}", function: "rollout_get", scope: "gse:read" },
  { method: "POST", path: "/v1/rollouts/{rollout_id}/pause", function: "rollout_action", scope: "operator" },
  { method: "POST", path: "/v1/rollouts/{rollout_id}/resume", function: "rollout_action", scope: "operator" },
  { method: "POST", path: "/v1/rollouts/{rollout_id}/abort", function: "rollout_action", scope: "operator" },
  { method: "POST", path: "/v1/commands/{message_id}/pause", function: "command_pause", scope: "operator" },
  { method: "POST", path: "/v1/commands/{message_id}/resume", function: "command_resume", scope: "operator" },
  { method: "GET", path: "/v1/upstream-messages", function: "upstream_messages", scope: "gse:read" },
  // Command templates (lib/templates): named, versioned; a rollout runs one by name.
  { method: "GET", path: "/v1/templates", function: "template_list", scope: "gse:read" },
  { method: "GET", path: "/v1/templates/{name}", function: "template_get", scope: "gse:read" },
  { method: "PUT", path: "/v1/templates/{name}", function: "template_put", scope: "operator" },
  // Desired state: plan, apply, history (docs/desired-state.md).
  { method: "POST", path: "/v1/plans", function: "plan_create", scope: "operator" },
  { method: "GET", path: "/v1/plans/{plan_id}", function: "plan_get", scope: "gse:read" },
  { method: "POST", path: "/v1/plans/{plan_id}/apply", function: "plan_apply", scope: "operator" },
  { method: "GET", path: "/v1/applies", function: "apply_history", scope: "gse:read" },
  { method: "GET", path: "/v1/applies/{apply_id}", function: "apply_history", scope: "gse:read" },
  { method: "POST", path: "/v1/gse/callback", function: "gse_callback", auth: "callback-key", scope: CALLBACK_SCOPE },
  // The status page: the page, and what its script asks for.
  { method: "GET", path: "/v1/console", function: "console_page", auth: "browser", scope: "gse:read" },
  { method: "GET", path: "/v1/console/data", function: "console_data", auth: "browser", scope: "gse:read" },
  { method: "POST", path: "/v1/console/rollouts/{rollout_id}/{action}", function: "console_rollout_action", auth: "browser", scope: "operator" },
  // APM applications and probes.
  { method: "POST", path: "/v1/apm/apps", function: "apm_apps", scope: "gse:write" },
  { method: "GET", path: "/v1/apm/apps", function: "apm_apps", scope: "gse:read" },
  { method: "GET", path: "/v1/apm/apps/{bk_biz_id}/{app_name}", function: "apm_apps", scope: "gse:read" },
  { method: "PUT", path: "/v1/apm/apps/{bk_biz_id}/{app_name}", function: "apm_apps", scope: "gse:write" },
  { method: "DELETE", path: "/v1/apm/apps/{bk_biz_id}/{app_name}", function: "apm_apps", scope: "gse:write" },
  { method: "POST", path: "/v1/apm/apps/{bk_biz_id}/{app_name}/datasources/{datasource}/start", function: "apm_datasource", scope: "gse:write" },
  { method: "POST", path: "/v1/apm/apps/{bk_biz_id}/{app_name}/datasources/{datasource}/stop", function: "apm_datasource", scope: "gse:write" },
  { method: "GET", path: "/v1/apm/apps/{bk_biz_id}/{app_name}/probes", function: "apm_probes", scope: "gse:read" },
  { method: "POST", path: "/v1/apm/apps/{bk_biz_id}/{app_name}/probes", function: "apm_probes", scope: "gse:write" },
  { method: "GET", path: "/v1/apm/apps/{bk_biz_id}/{app_name}/probe-versions", function: "apm_probes", scope: "gse:read" },
  { method: "POST", path: "/v1/apm/apps/{bk_biz_id}/{app_name}/discover", function: "apm_probes", scope: "gse:dispatch" },
  { method: "POST", path: "/v1/apm/apps/{bk_biz_id}/{app_name}/upgrade", function: "apm_probes", scope: "gse:dispatch" },
  ...GSE_FUNCTIONS.flatMap((name) =>
    [...new Set(pathVariants(OPERATION_PATHS[name]).map(withoutTrailingSlash))].map((path) => ({
      method: "POST" as const,
      path,
      function: name,
      scope: GSE_SCOPES[name],
    })),
  ),
];

/** Every route's key (`METHOD /path`, as API Gateway's routeKey) and the scope it needs. */
export function scopeTable(routes: readonly RouteDefinition[] = ROUTES): ReadonlyMap<string, RouteScope> {
  return new Map(routes.map((route) => [`${route.method} ${route.path}`, route.scope]));
}

/**
 * The scopes of the routes `key` serves, keyed as in scopeTable: all a function's request handler looks
 * up, given to its bundle at build time (lib/bundling.ts's esbuildDefine, lib/http/route-scopes.ts).
 */
export const functionRouteScopes = (key: FunctionKey): Readonly<Record<string, RouteScope>> =>
  Object.fromEntries(scopeTable(ROUTES.filter((route) => route.function === key)));
