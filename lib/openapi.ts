/**
 * The OpenAPI 3.1 description of this API, generated from what serves it: the route table
 * (lib/wiring.ts), the operation catalogue and its zod schemas (lib/gse/operations.ts,
 * lib/gse/schemas.ts). Nothing here restates a shape: request bodies are the schemas the
 * handlers validate with, responses wrap each operation's `data` schema in GSE's envelope.
 * OpenAPI 3.1 schemas are JSON Schema 2020-12, which is what zod's `toJSONSchema` emits.
 */
import { z } from "zod";
import type { JSONSchema } from "zod/v4/core";
import {
  agentIdListBodySchema,
  historyDataSchema,
  listAgentsDataSchema,
  registerDataSchema,
  summaryDataSchema,
  unregisterDataSchema,
} from "./fleet/schemas.ts";
import { rollbackBodySchema } from "./config-versions/api.ts";
import {
  appListSchema,
  appViewSchema,
  createAppSchema,
  datasourceActionSchema,
  discoverRequestSchema,
  ingestAnswerSchema,
  probeCommandAnswerSchema,
  probeIngestSchema,
  probeListSchema,
  probeVersionsSchema,
  updateAppSchema,
  upgradeRequestSchema,
} from "./apm/schemas.ts";
import { commandListSchema, commandPageSchema, commandViewSchema, cancelRequestSchema, dispatchAnswerSchema, dispatchCommandSchema, upstreamListSchema } from "./commands/schemas.ts";
import { slotCallbackSchema } from "./gse/schemas.ts";
import { consoleDataSchema, consoleUnavailableDataSchema } from "./console/schemas.ts";
import { CALLBACK_KEY_PARAM } from "./http/auth.ts";
import { findOperationByPath, GATEWAY_PREFIX, isOperationName, OPERATIONS, type OperationName } from "./gse/operations.ts";
import { esbEnvelopeSchema } from "./gse/schemas.ts";
import { AUTH_HEADER } from "./http/auth.ts";
import { GSE_FUNCTIONS, type HttpMethod, type RouteDefinition } from "./routes.ts";
import { FUNCTIONS, type FunctionKey } from "./wiring.ts";

export const OPENAPI_VERSION = "3.1.0";
export const JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema";
export const SECURITY_SCHEME = "BkApiAuthorization";
/** The same caller credentials by HTTP Basic, on the routes a browser opens (route auth `browser`). */
export const BASIC_SECURITY_SCHEME = "BasicAuth";

type Schema = JSONSchema.BaseSchema;
type Ref = { readonly $ref: string };

export interface OpenApiMediaType {
  readonly schema: Schema | Ref;
}

export interface OpenApiResponse {
  readonly description: string;
  readonly headers?: Readonly<Record<string, Ref>>;
  readonly content?: Readonly<Record<string, OpenApiMediaType>>;
}

export interface OpenApiParameter {
  readonly name: string;
  readonly in: "path" | "header" | "query";
  readonly required: boolean;
  readonly description?: string;
  readonly schema: Schema;
}

export interface OpenApiOperation {
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  readonly tags: readonly string[];
  readonly parameters: readonly (OpenApiParameter | Ref)[];
  readonly requestBody?: { readonly required: boolean; readonly content: Readonly<Record<string, OpenApiMediaType>> };
  readonly responses: Readonly<Record<string, OpenApiResponse | Ref>>;
  readonly security?: readonly Readonly<Record<string, readonly string[]>>[];
}

export type OpenApiPathItem = Partial<Record<Lowercase<HttpMethod>, OpenApiOperation>>;

export interface OpenApiDocument {
  readonly openapi: typeof OPENAPI_VERSION;
  readonly jsonSchemaDialect: typeof JSON_SCHEMA_DIALECT;
  readonly info: { readonly title: string; readonly version: string; readonly description: string };
  readonly servers?: readonly { readonly url: string }[];
  readonly security: readonly Readonly<Record<string, readonly string[]>>[];
  readonly tags: readonly { readonly name: string; readonly description: string }[];
  readonly paths: Readonly<Record<string, OpenApiPathItem>>;
  readonly components: {
    readonly securitySchemes: Readonly<Record<string, unknown>>;
    readonly schemas: Readonly<Record<string, Schema>>;
    readonly responses: Readonly<Record<string, OpenApiResponse>>;
    readonly parameters: Readonly<Record<string, OpenApiParameter>>;
    readonly headers: Readonly<Record<string, { readonly description: string; readonly schema: Schema }>>;
  };
}

/** How one function's routes are documented; GSE operations are derived from the catalogue. */
export interface RouteDoc {
  readonly summary?: string;
  readonly description?: string;
  /** Schema of the JSON body the handler validates with; absent = no body. */
  readonly requestBody?: z.ZodType;
  /** Schema of the envelope's `data` on success; absent = any JSON value. */
  readonly responseData?: z.ZodType;
  /** Statuses other than 200 that still carry a success envelope (e.g. an APM app's 201). */
  readonly successStatuses?: readonly number[];
  /**
   * The route answers 503 DEPENDENCY_UNAVAILABLE (lib/core/errors.ts) when a dependency is down: what it
   * means here, and the schema of its `data` (absent = any JSON value).
   */
  readonly unavailable?: { readonly description: string; readonly data?: z.ZodType };
  /** The answer is the bare document, without the envelope (lib/http/handler.ts `raw`). */
  readonly raw?: boolean;
  /** The answer is an HTML page (lib/http/handler.ts text reply), not JSON. */
  readonly html?: boolean;
  /** For a function serving several routes: what differs per route, by `"<METHOD> <path>"`. */
  readonly routes?: Readonly<Record<string, Omit<RouteDoc, "routes">>>;
}

/**
 * Bodies our routes accept where they differ from GSE's own request: dispatch_message takes GSE's
 * body with slot_id/token optional, any number of targets and our rollout fields
 * (lib/commands/schemas.ts). Everything else validates with the catalogue's request schema.
 */
const ROUTE_REQUEST_SCHEMAS: Partial<Record<OperationName, z.ZodType>> = {
  dispatch_message: dispatchCommandSchema,
};

/** Answers that add to GSE's `data`: dispatch_message's also carries the command it became. */
const ROUTE_RESPONSE_SCHEMAS: Partial<Record<OperationName, z.ZodType>> = {
  dispatch_message: dispatchAnswerSchema,
};

export function gseRouteRequestSchema(name: OperationName): z.ZodType {
  return ROUTE_REQUEST_SCHEMAS[name] ?? OPERATIONS[name].request;
}

const GSE_FUNCTION_SET: ReadonlySet<string> = new Set(GSE_FUNCTIONS);

function gseOperationOf(fn: FunctionKey): OperationName | undefined {
  return GSE_FUNCTION_SET.has(fn) && isOperationName(fn) ? fn : undefined;
}

/** Documentation of the non-GSE functions that have something to add to their wiring entry. */
export const SERVICE_ROUTE_DOCS: Partial<Record<FunctionKey, RouteDoc>> = {
  health: {
    summary: "Reachability of DynamoDB, SNS and GSE",
    description:
      "HTTP 200 (`result: true`, `code: 0`, `data.status: \"ok\"`) when every dependency answers. When one does not: " +
      "HTTP 503 with `result: false`, `code: 1650301` (DEPENDENCY_UNAVAILABLE), a `message` naming the dependencies down, " +
      "and the same report as `data` (`status: \"degraded\"`, every dependency with `ok`, `latency_ms`, `detail`).",
    unavailable: {
      description:
        "A dependency is down (DEPENDENCY_UNAVAILABLE, code 1650301): `message` names it, `data` is the whole report " +
        "(`status: \"degraded\"`, `dependencies.{dynamodb,sns,gse}.{ok,latency_ms,detail}`). Details hold codes and error names, never a secret.",
    },
  },
  fleet_summary: {
    description:
      "Counts by status (pending, alive, lost, unknown; `suspect` = alive but missed by the last polls), by class of GSE's last status_code (`by_class`: alive 2, degraded 3-4, transitional 0/1/5/6, gone 7, unknown -1/-2/omitted) and by agent version, with `outdated` below FLEET_MIN_VERSION, as of the last completed heartbeat poll. `data` is null before the first poll.",
    responseData: summaryDataSchema,
  },
  fleet_agents: {
    description:
      "Watched agents, `limit` (1-1000, default 100) at a time; query parameters `status` (pending|alive|suspect|lost|unknown), `class` (alive|degraded|transitional|gone|unknown: the class of GSE's last status_code, shown as `status_class` beside `status_code`), `version`, `outdated` (true|false), `seen_before`/`seen_after` (ISO 8601 last-seen bounds), `cursor` (the previous page's `next_cursor`). A page may hold fewer items than `limit` while `next_cursor` is not null.",
    responseData: listAgentsDataSchema,
  },
  fleet_register: { description: "Adds agents to the fleet the heartbeat polls (at most 5000 ids per call); agents watched already keep their state.", requestBody: agentIdListBodySchema, responseData: registerDataSchema },
  fleet_unregister: { description: "Removes agents from the fleet; their transition history expires with HEARTBEAT_EVICT_AFTER_DAYS.", requestBody: agentIdListBodySchema, responseData: unregisterDataSchema },
  fleet_history: {
    description: "The agent's current state (with `status_code` and its `status_class`) and its transitions (lost, recovered, stuck, unknown, and the news version_changed, newly_seen; each with the status_code, its name and class that made it), newest first; query parameters `limit` (1-500, default 50) and `cursor`. 404 when the agent is neither watched nor has history.",
    responseData: historyDataSchema,
  },
  config_history: {
    summary: "Versions of a stream_to or route (kind `route` or `streamto`)",
    description:
      "`…/versions?limit=&cursor=`: newest first, `next_cursor` for the next page; a version's `status` is PENDING, APPLIED, REJECTED (GSE refused it, " +
      "or it never reached GSE: nothing changed; `error` holds GSE's code and message), FAILED, ROLLED_BACK or ROLLBACK_FAILED; an `adopt` version records what GSE " +
      "was found holding instead of what a failed or refused change wrote (`adoption`). The first page also lists `add_attempts`: adds of this very id " +
      "that GSE refused (the id was taken) or that failed, which never became a version (`head` is null when there are only those). " +
      "`…/versions/{version}`: one version; " +
      "`…/diff?from=&to=`: field-level changes between two versions. Credentials are masked; a diff says a secret changed, never its value.",
  },
  config_rollback: {
    summary: "Roll back to version N: a new version with N's document, applied and verified like any change",
    description: "Waits up to CONFIG_LOCK_WAIT_MS for another change of the object (or its recovery) to finish; 409 only after that wait.",
    requestBody: rollbackBodySchema,
  },
  config_drift: {
    summary: "Drift: the object's current version against what GSE holds now",
  },
  command_list: {
    description: "Commands, newest first; query parameters `status` (RUNNING, SUCCEEDED, PARTIAL, FAILED, ABORTED, CANCELLED), `limit` (1-200, default 50), `cursor`.",
    responseData: commandListSchema,
  },
  command_get: {
    description:
      "The command with its counts per outcome, and a page of agents it was sent to; query parameters `outcome`, `limit` (1-1000, default 100), `cursor`. A message_id holding `/` is sent URL-encoded. Agents of batches not sent are only counted (PENDING, or SKIPPED once the command ended).",
    responseData: commandPageSchema,
  },
  command_cancel: {
    description: "Batches not sent yet are never sent (SKIPPED), pending retries stop; batches in flight finish. 409 when the command is not RUNNING. No alert: a person asked.",
    requestBody: cancelRequestSchema,
    responseData: commandViewSchema,
  },
  upstream_messages: {
    description: "Messages agents sent through the slot that no command of ours asked for (e.g. bkmonitorbeat's fetch/host/dataid), per UTC day (`date`, default today), newest first; `limit`, `cursor`.",
    responseData: upstreamListSchema,
  },
  gse_callback: {
    summary: "GSE's message-slot callback (register this URL, with its key, for the slot)",
    description: `GSE posts \`{message_id, bk_agent_id, content}\` without credentials: the URL carries \`?${CALLBACK_KEY_PARAM}=<GseCallbackKey>\`, compared in constant time (401 otherwise). A reply to one of our commands from an agent it was sent to becomes that agent's REPLIED outcome; anything else is kept as an upstream message.`,
    requestBody: slotCallbackSchema,
  },
  console_page: {
    summary: "The status page: fleet, 24 h of counts by status, lost agents, alerts, running commands, config versions",
    description:
      "One HTML document (inline style and script, no external fetch) whose script reads `/v1/console/data` every 15 s. " +
      "A browser signs in with HTTP Basic (user: app code, password: app secret); a refusal carries `WWW-Authenticate: Basic`.",
    html: true,
  },
  console_data: {
    description:
      "What the status page shows: the fleet as of the last poll, counts by status over the last 24 h (a snapshot every 5 minutes), " +
      "the most recently lost agents, the newest alerts, running commands with their progress, and the latest config versions " +
      "(FAILED, ROLLED_BACK, ROLLBACK_FAILED flagged `highlight`), and at the top each dependency's health: GSE by the last heartbeat " +
      "poll (failing while calls of it failed; the fleet's `gse_answered_at` is then when GSE last answered for every agent), DynamoDB by " +
      "this answer's reads, SNS by the alerts topic. Accepts HTTP Basic as well as the header.",
    responseData: consoleDataSchema,
    unavailable: {
      description:
        "DynamoDB could not be read within 10 s (DEPENDENCY_UNAVAILABLE, code 1650301): `data.dependencies` is the strip alone, " +
        "DynamoDB failing with why, SNS as checked, GSE unknown (its signal is in DynamoDB).",
      data: consoleUnavailableDataSchema,
    },
  },
  apm_apps: {
    routes: {
      "POST /v1/apm/apps": { summary: "Create an APM app (app_name unique per bk_biz_id; 409 otherwise)", requestBody: createAppSchema, responseData: appViewSchema, successStatuses: [201] },
      "GET /v1/apm/apps": { summary: "APM apps, of one business with `?bk_biz_id=`", responseData: appListSchema },
      "GET /v1/apm/apps/{bk_biz_id}/{app_name}": { summary: "One APM app with its datasources and their last apply", responseData: appViewSchema },
      "PUT /v1/apm/apps/{bk_biz_id}/{app_name}": {
        summary: "Change retention or datasource definitions (null removes one); 409 for an enabled datasource or a stale `if_revision`",
        requestBody: updateAppSchema,
        responseData: appViewSchema,
      },
      "DELETE /v1/apm/apps/{bk_biz_id}/{app_name}": { summary: "Delete the app and its probe records; 409 while a datasource is enabled" },
    },
  },
  apm_datasource: {
    description:
      "Step 1: the datasource's route on its data id channel, as a config version (verified). Step 2: a command to the agents of the app's probes seen within the retention window. " +
      "When either fails the datasource keeps its previous state, the route is rolled back, its `apply` records the step and error, one `apm.datasource_apply` alert is published, and the answer is 502 DATASOURCE_APPLY_FAILED. " +
      "Asking for the state it already has sends nothing (`changed: false`).",
    responseData: datasourceActionSchema,
  },
  apm_probes: {
    routes: {
      "GET /v1/apm/apps/{bk_biz_id}/{app_name}/probes": {
        summary: "Probe instances last seen within the app's retention window (UTC, both ends included); `service`, `limit`, `cursor`",
        responseData: probeListSchema,
      },
      "POST /v1/apm/apps/{bk_biz_id}/{app_name}/probes": { summary: "Report probe instances (at most 1000); last_seen only moves forward", requestBody: probeIngestSchema, responseData: ingestAnswerSchema },
      "GET /v1/apm/apps/{bk_biz_id}/{app_name}/probe-versions": { summary: "Probe versions within the retention window: instances and agents per version", responseData: probeVersionsSchema },
      "POST /v1/apm/apps/{bk_biz_id}/{app_name}/discover": { summary: "Ask agents for their probe instances; replies through the slot callback are recorded", requestBody: discoverRequestSchema, responseData: probeCommandAnswerSchema },
      "POST /v1/apm/apps/{bk_biz_id}/{app_name}/upgrade": {
        summary: "Upgrade the probes not on target_version: a command rolled out within max_concurrency / max_errors",
        requestBody: upgradeRequestSchema,
        responseData: probeCommandAnswerSchema,
      },
    },
  },
  openapi: {
    summary: "This document: every route, generated from the route table and the zod schemas",
    description: "Answered bare (no envelope), so OpenAPI tools can read it.",
    raw: true,
  },
};

const CALLBACK_KEY_PARAMETER: OpenApiParameter = { name: CALLBACK_KEY_PARAM, in: "query", required: true, description: "GseCallbackKey", schema: { type: "string" } };

/** The route table's `{name+}` (API Gateway's greedy parameter) is `{name}` in OpenAPI. */
export function openApiPath(routePath: string): string {
  return routePath.replace(/\{(\w+)\+\}/g, "{$1}");
}

const lower = (method: HttpMethod): Lowercase<HttpMethod> => method.toLowerCase() as Lowercase<HttpMethod>;

/** zod → JSON Schema 2020-12 as the wire carries it (`io: "input"`: before defaults/transforms). */
function jsonSchema(schema: z.ZodType): Schema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { target: "draft-2020-12", io: "input", unrepresentable: "any" });
  return rest;
}

/** Our success answer: GSE's envelope with `result: true`, `code: 0` (lib/http/envelope.ts `ok`). */
function successEnvelope(data: z.ZodType): z.ZodType {
  return esbEnvelopeSchema(data).extend({ result: z.literal(true), code: z.literal(0), request_id: z.string() });
}

/** Our error answer (lib/http/envelope.ts `failure`): GSE's envelope with `result: false` and a `code_name`. */
const errorEnvelope = esbEnvelopeSchema(z.unknown()).extend({
  result: z.literal(false),
  code: z.int(),
  code_name: z.string(),
  request_id: z.string(),
});

const ref = (section: "schemas" | "responses" | "parameters" | "headers", name: string): Ref => ({ $ref: `#/components/${section}/${name}` });

/** The 503 of a route whose dependency is down (lib/core/errors.ts DependencyUnavailableError), with its `data`. */
const unavailableEnvelope = (data: z.ZodType): z.ZodType =>
  errorEnvelope.extend({ code: z.literal(1650301), code_name: z.literal("DEPENDENCY_UNAVAILABLE"), data });

const ERROR_RESPONSES = {
  BadRequest: "Body is not valid JSON (INVALID_JSON) or fails validation (INVALID_ARGS); `data.errors` lists `{path, message}` per field. GSE is not called.",
  Unauthenticated: `Missing or wrong ${AUTH_HEADER} header (UNAUTHENTICATED).`,
  Forbidden: "Not allowed (APP_NO_PERMISSION), e.g. a dispatch_message naming another slot_id/token.",
  PayloadTooLarge: "Body above the size limit (BODY_SIZE_LIMIT_EXCEED). GSE is not called.",
  RateLimited: "GSE's gateway rate-limited the call (RATE_LIMIT_RESTRICTION); `Retry-After` says when to try again.",
  InternalError: "Unexpected failure; the message is generic.",
  BadGateway: "GSE unreachable or failed (BAD_GATEWAY); for a write, nothing could be confirmed.",
  GatewayTimeout: "GSE did not answer in time (REQUEST_BACKEND_TIMEOUT).",
} as const;
type ErrorResponseName = keyof typeof ERROR_RESPONSES;

function errorResponses(byStatus: Readonly<Record<number, ErrorResponseName | false>>): Record<string, Ref> {
  return Object.fromEntries(
    Object.entries(byStatus).flatMap(([status, name]) => (name === false ? [] : [[status, ref("responses", name)] as const])),
  );
}

interface RouteSpec {
  readonly doc: RouteDoc;
  readonly gse: OperationName | undefined;
  /** Names the route's request and response schemas. */
  readonly schemaKey: string;
}

function routeSpec(route: RouteDefinition, docs: Partial<Record<FunctionKey, RouteDoc>>): RouteSpec {
  const gse = gseOperationOf(route.function);
  if (gse !== undefined) {
    const op = OPERATIONS[gse];
    return {
      gse,
      doc: {
        summary: FUNCTIONS[route.function].description,
        requestBody: gseRouteRequestSchema(gse),
        responseData: ROUTE_RESPONSE_SCHEMAS[gse] ?? op.responseData,
        ...docs[route.function],
      },
      schemaKey: gse,
    };
  }
  const own = docs[route.function]?.routes?.[`${route.method} ${route.path}`];
  return {
    gse: undefined,
    doc: { summary: FUNCTIONS[route.function].description, ...docs[route.function], ...own },
    schemaKey: own ? `${route.function}_${route.method.toLowerCase()}${route.path.replace(/[^A-Za-z0-9]+/g, "_")}` : route.function,
  };
}

/** A stable, unique id: the function, plus the door and path form for GSE's path variants. */
function baseOperationId(route: RouteDefinition, gse: OperationName | undefined): string {
  if (gse === undefined) return route.function;
  const door = findOperationByPath(route.path)?.door ?? "other";
  const parts: string[] = [route.function, door];
  if (route.path.startsWith(GATEWAY_PREFIX)) parts.push("prefixed");
  if (route.path.endsWith("/")) parts.push("slash");
  return parts.join("_");
}

function gseDescription(name: OperationName, path: string): string {
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

export interface OpenApiOptions {
  readonly title?: string;
  readonly version?: string;
  readonly servers?: readonly { readonly url: string }[];
  /** Per-function documentation; defaults to {@link SERVICE_ROUTE_DOCS}. */
  readonly docs?: Partial<Record<FunctionKey, RouteDoc>>;
}

/** The OpenAPI 3.1 document for `routes`: every route, and nothing that is not a route. */
export function buildOpenApiDocument(routes: readonly RouteDefinition[], options: OpenApiOptions = {}): OpenApiDocument {
  const docs = options.docs ?? SERVICE_ROUTE_DOCS;
  const schemas: Record<string, Schema> = { ErrorEnvelope: jsonSchema(errorEnvelope) };
  const schemaRef = (name: string, build: () => z.ZodType): Ref => {
    if (!(name in schemas)) schemas[name] = jsonSchema(build());
    return ref("schemas", name);
  };
  const usedIds = new Set<string>();
  const uniqueId = (base: string): string => {
    let id = base;
    for (let n = 2; usedIds.has(id); n++) id = `${base}_${n}`;
    usedIds.add(id);
    return id;
  };

  const paths: Record<string, OpenApiPathItem> = {};
  for (const route of routes) {
    const { doc, gse, schemaKey } = routeSpec(route, docs);
    const path = openApiPath(route.path);
    const success: Schema | Ref = doc.raw
      ? { type: "object", description: "An OpenAPI 3.1 document" }
      : doc.html
        ? { type: "string", description: "An HTML document" }
        : schemaRef(`${schemaKey}_response`, () => successEnvelope(doc.responseData ?? z.unknown()));
    const successResponse: OpenApiResponse = {
      description: gse !== undefined ? "GSE's answer in its envelope; a GSE business error is `result: false` with GSE's code" : "Success",
      headers: { "X-Bkapi-Request-Id": ref("headers", "RequestId") },
      content: doc.html
        ? { "text/html": { schema: success } }
        : { "application/json": { schema: gse !== undefined ? { anyOf: [success, ref("schemas", "ErrorEnvelope")] } : success } },
    };
    const hasBody = doc.requestBody !== undefined;
    const errors: Record<number, ErrorResponseName | false> = {
      400: hasBody && "BadRequest",
      401: "Unauthenticated",
      403: "Forbidden",
      413: hasBody && "PayloadTooLarge",
      429: gse !== undefined && "RateLimited",
      500: "InternalError",
      502: gse !== undefined && "BadGateway",
      504: gse !== undefined && "GatewayTimeout",
    };
    const pathParameters: OpenApiParameter[] = [...route.path.matchAll(/\{(\w+)\+?\}/g)].map((m) => ({
      name: m[1] as string,
      in: "path",
      required: true,
      schema: { type: "string" },
    }));
    const operation: OpenApiOperation = {
      operationId: uniqueId(baseOperationId(route, gse)),
      summary: doc.summary ?? route.function,
      ...(gse !== undefined ? { description: gseDescription(gse, route.path) } : doc.description ? { description: doc.description } : {}),
      tags: [gse !== undefined ? (findOperationByPath(route.path)?.door === "esb" ? "gse-esb" : "gse-gateway") : "service"],
      parameters: [
        ...pathParameters,
        ...(route.auth === "callback-key" ? [CALLBACK_KEY_PARAMETER] : []),
        ref("parameters", "RequestId"),
      ],
      // The callback's credential is its URL's key, not the caller header; a browser's may be Basic.
      ...(route.auth === "callback-key" ? { security: [] } : {}),
      ...(route.auth === "browser" ? { security: [{ [SECURITY_SCHEME]: [] }, { [BASIC_SECURITY_SCHEME]: [] }] } : {}),
      ...(doc.requestBody !== undefined
        ? {
            requestBody: {
              required: true,
              content: { "application/json": { schema: schemaRef(`${schemaKey}_request`, () => doc.requestBody ?? z.unknown()) } },
            },
          }
        : {}),
      responses: {
        "200": successResponse,
        ...Object.fromEntries((doc.successStatuses ?? []).map((status) => [String(status), successResponse])),
        ...errorResponses(errors),
        ...(doc.unavailable !== undefined
          ? {
              "503": {
                description: doc.unavailable.description,
                headers: { "X-Bkapi-Request-Id": ref("headers", "RequestId") },
                content: { "application/json": { schema: schemaRef(`${schemaKey}_unavailable`, () => unavailableEnvelope(doc.unavailable?.data ?? z.unknown())) } },
              },
            }
          : {}),
      },
    };
    const item = (paths[path] ??= {});
    item[lower(route.method)] = operation;
  }

  return {
    openapi: OPENAPI_VERSION,
    jsonSchemaDialect: JSON_SCHEMA_DIALECT,
    info: {
      title: options.title ?? "gse-control",
      version: options.version ?? "1.0.0",
      description:
        "BlueKing GSE's HTTP API (same paths, bodies and envelopes), served by gse-control. Every answer is " +
        "`{result, code, message, data, request_id}`; errors add `code_name`.",
    },
    ...(options.servers ? { servers: options.servers } : {}),
    security: [{ [SECURITY_SCHEME]: [] }],
    tags: [
      { name: "gse-gateway", description: "GSE v2 API gateway paths (`/api/v2/...`, with or without `/api/bk-gse/prod`)" },
      { name: "gse-esb", description: "Legacy ESB component paths (`/api/c/compapi/v2/gse/...`)" },
      { name: "service", description: "gse-control's own routes" },
    ],
    paths,
    components: {
      securitySchemes: {
        [SECURITY_SCHEME]: {
          type: "apiKey",
          in: "header",
          name: "X-Bkapi-Authorization",
          description: 'A JSON string: `{"bk_app_code": "...", "bk_app_secret": "...", "bk_username": "..."}` (bk_username optional).',
        },
        [BASIC_SECURITY_SCHEME]: {
          type: "http",
          scheme: "basic",
          description: "The caller's app code as user and app secret as password; only on the routes a browser opens (the status page).",
        },
      },
      schemas,
      responses: Object.fromEntries(
        Object.entries(ERROR_RESPONSES).map(([name, description]) => [
          name,
          {
            description,
            headers: { "X-Bkapi-Request-Id": ref("headers", "RequestId") },
            content: { "application/json": { schema: ref("schemas", "ErrorEnvelope") } },
          },
        ]),
      ),
      parameters: {
        RequestId: {
          name: "X-Bkapi-Request-Id",
          in: "header",
          required: false,
          description: "Caller's request id; echoed in the answer when it is a plain token (`[\\w.:-]{1,128}`).",
          schema: { type: "string" },
        },
      },
      headers: {
        RequestId: { description: "The request id, also in the body's `request_id`.", schema: { type: "string" } },
      },
    },
  };
}
