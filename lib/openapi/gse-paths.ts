/**
 * How the GSE-compatible routes are documented: everything comes from the operation catalogue
 * (lib/gse/operations.ts) and its zod schemas, on each path form GSE answers (gateway with and
 * without the stage prefix, ESB), apart from the two places our route accepts or answers more.
 */
import type { z } from "zod";
import { dispatchAnswerSchema, dispatchBodySchema } from "../commands/schemas.ts";
import { findOperationByPath, GATEWAY_PREFIX, isOperationName, OPERATIONS, type OperationName } from "../gse/operations.ts";
import { GSE_FUNCTIONS, type RouteDefinition } from "../routes.ts";
import { FUNCTION_DESCRIPTIONS } from "../function-descriptions.ts";
import type { FunctionKey } from "../wiring.ts";
import type { RouteDoc } from "./types.ts";

/**
 * Bodies our routes accept where they differ from GSE's own request: dispatch_message takes GSE's
 * body with slot_id/token optional, any number of targets and our rollout fields
 * (lib/commands/schemas.ts). Everything else validates with the catalogue's request schema.
 */
const ROUTE_REQUEST_SCHEMAS: Partial<Record<OperationName, z.ZodType>> = {
  dispatch_message: dispatchBodySchema,
};

/** Answers that add to GSE's `data`: dispatch_message's also carries the command it became. */
const ROUTE_RESPONSE_SCHEMAS: Partial<Record<OperationName, z.ZodType>> = {
  dispatch_message: dispatchAnswerSchema,
};

export function gseRouteRequestSchema(name: OperationName): z.ZodType {
  return ROUTE_REQUEST_SCHEMAS[name] ?? OPERATIONS[name].request;
}

const GSE_FUNCTION_SET: ReadonlySet<string> = new Set(GSE_FUNCTIONS);

/** The GSE operation a function serves, or undefined for one of our own. */
export function gseOperationOf(fn: FunctionKey): OperationName | undefined {
  return GSE_FUNCTION_SET.has(fn) && isOperationName(fn) ? fn : undefined;
}

/** The catalogue's documentation of `fn` (serving `name`), under whatever `extra` a caller of the builder adds. */
export function gseRouteDoc(fn: FunctionKey, name: OperationName, extra: RouteDoc | undefined): RouteDoc {
  return {
    summary: FUNCTION_DESCRIPTIONS[fn],
    requestBody: gseRouteRequestSchema(name),
    responseData: ROUTE_RESPONSE_SCHEMAS[name] ?? OPERATIONS[name].responseData,
    ...(ROUTE_ERRORS[name] ? { errors: ROUTE_ERRORS[name] } : {}),
    ...extra,
  };
}

/**
 * Errors a GSE operation answers beyond GSE's own (business errors as HTTP 200, 429/502/504): a
 * versioned change (lib/config-versions) answers 409 while another change holds the object or for an
 * Idempotency-Key reused with another body; a dispatch 403 for another slot's slot_id/token and 409
 * for a message_id reused with another body (lib/commands/submit.ts).
 */
const ROUTE_ERRORS: Partial<Record<OperationName, RouteDoc["errors"]>> = {
  add_streamto: ["Conflict"],
  update_streamto: ["Conflict"],
  delete_streamto: ["Conflict"],
  add_route: ["Conflict"],
  update_route: ["Conflict"],
  delete_route: ["Conflict"],
  dispatch_message: ["Forbidden", "Conflict"],
};

/** A stable id for one path form: the function, its door, and the prefix / slash it has. */
export function gseOperationId(route: RouteDefinition): string {
  const door = findOperationByPath(route.path)?.door ?? "other";
  const parts: string[] = [route.function, door];
  if (route.path.startsWith(GATEWAY_PREFIX)) parts.push("prefixed");
  if (route.path.endsWith("/")) parts.push("slash");
  return parts.join("_");
}

export function gseDescription(name: OperationName, path: string): string {
  const match = findOperationByPath(path);
  const form =
    match?.door === "esb"
      ? "legacy ESB path"
      : path.startsWith(GATEWAY_PREFIX)
        ? "API gateway path with the stage prefix"
        : "API gateway path without the stage prefix";
  return [
    `GSE \`${name}\` (${form}${path.endsWith("/") ? ", trailing slash" : ""}); every path form answers the same.`,
    "Same body and envelope as GSE: unknown top-level keys (bk_username, bk_app_code, …) are ignored;",
    "GSE's business errors come back as HTTP 200 with `result: false` and GSE's code.",
  ].join(" ");
}

/** The tag of a GSE path: which of GSE's doors it is. */
export const gseTag = (path: string): string => (findOperationByPath(path)?.door === "esb" ? "gse-esb" : "gse-gateway");

export const GSE_TAGS = [
  { name: "gse-gateway", description: "GSE v2 API gateway paths (`/api/v2/...`, with or without `/api/bk-gse/prod`)" },
  { name: "gse-esb", description: "Legacy ESB component paths (`/api/c/compapi/v2/gse/...`)" },
] as const;
