/**
 * What a caller may do. Each route needs one scope (lib/routes.ts); each caller holds some
 * (ApiCallers' `scopes`). `admin` holds them all; a caller configured without `scopes` is an admin,
 * so a deployment that predates scopes keeps working unchanged until its callers are narrowed.
 */
import * as z from "zod";

export const SCOPES = [
  /** GSE's reads (query_*, agent state) and ours: health, history, commands, the fleet, the status page. */
  "gse:read",
  /** GSE's config writes (stream_to and route add/update/delete) and APM app changes. */
  "gse:write",
  /** GSE's dispatch_message. */
  "gse:dispatch",
  /** A person's repairs: roll a config back, cancel a command, add or remove fleet agents. */
  "operator",
  /** Everything. */
  "admin",
] as const;
export type Scope = (typeof SCOPES)[number];

/** What GSE's own clients (bk-monitor, bk-job) call: GSE's routes and nothing of ours that changes state. */
export const GSE_COMPATIBLE_SCOPES: readonly Scope[] = ["gse:read", "gse:write", "gse:dispatch"];

/** The scope of the route GSE's slot callback posts to: only the callback key grants it. */
export const CALLBACK_SCOPE = "gse:callback";
export type RouteScope = Scope | typeof CALLBACK_SCOPE;

export const scopeSchema = z.enum(SCOPES);

/** Whether a caller holding `held` may use a route that needs `required`. */
export function grants(held: readonly string[], required: RouteScope): boolean {
  return held.includes("admin") || held.includes(required);
}
