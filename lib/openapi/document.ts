/**
 * The OpenAPI 3.1 description of this API, generated from what serves it: the route table
 * (lib/routes.ts, lib/wiring.ts), the operation catalogue and its zod schemas (gse-paths.ts) and
 * our own routes' notes (service-paths.ts). Nothing here restates a shape: request bodies are the
 * schemas the handlers validate with, responses wrap each route's `data` schema in GSE's envelope.
 * OpenAPI 3.1 schemas are JSON Schema 2020-12, which is what zod's `toJSONSchema` emits.
 */
import * as z from "zod";
import type { OperationName } from "../gse/operations.ts";
import { CALLBACK_KEY_PARAM } from "../http/auth.ts";
import type { HttpMethod, RouteDefinition } from "../routes.ts";
import { FUNCTION_DESCRIPTIONS } from "../function-descriptions.ts";
import type { FunctionKey } from "../wiring.ts";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import {
  components,
  ERROR_RESPONSES,
  errorEnvelope,
  errorResponses,
  failureEnvelope,
  jsonSchema,
  ref,
  REQUEST_ID_HEADERS,
  successEnvelope,
  type ErrorResponseName,
} from "./components.ts";
import { GSE_TAGS, gseDescription, gseOperationId, gseOperationOf, gseRouteDoc, gseTag } from "./gse-paths.ts";
import { SERVICE_ROUTE_DOCS } from "./service-paths.ts";
import {
  BASIC_SECURITY_SCHEME,
  JSON_SCHEMA_DIALECT,
  OPENAPI_VERSION,
  SECURITY_SCHEME,
  type OpenApiDocument,
  type OpenApiOperation,
  type OpenApiParameter,
  type OpenApiPathItem,
  type OpenApiResponse,
  type OpenApiServer,
  type Ref,
  type RouteDoc,
  type Schema,
} from "./types.ts";

const CALLBACK_KEY_PARAMETER: OpenApiParameter = {
  name: CALLBACK_KEY_PARAM,
  in: "query",
  required: true,
  description: "GseCallbackKey",
  schema: { type: "string" },
};

/** The route table's `{name+}` (API Gateway's greedy parameter) is `{name}` in OpenAPI. */
export function openApiPath(routePath: string): string {
  return routePath.replace(/\{(\w+)\+\}/g, "{$1}");
}

const lower = (method: HttpMethod): Lowercase<HttpMethod> => method.toLowerCase() as Lowercase<HttpMethod>;

/** What the document gathers while its routes are documented: shared schemas and the ids taken. */
interface Gathered {
  readonly schemas: Record<string, Schema>;
  readonly operationIds: Set<string>;
}

/** A reference to the component schema `name`, built the first time a route asks for it. */
function schemaRef(gathered: Gathered, name: string, build: () => z.ZodType): Ref {
  if (!(name in gathered.schemas)) gathered.schemas[name] = jsonSchema(build());
  return ref("schemas", name);
}

/** `base`, or `base_2`, `base_3`… when another operation has it already. */
function uniqueOperationId(gathered: Gathered, base: string): string {
  let id = base;
  for (let n = 2; gathered.operationIds.has(id); n++) id = `${base}_${n}`;
  gathered.operationIds.add(id);
  return id;
}

interface RouteSpec {
  readonly route: RouteDefinition;
  readonly doc: RouteDoc;
  readonly gse: OperationName | undefined;
  /** Names the route's request and response schemas. */
  readonly schemaKey: string;
}

function routeSpec(route: RouteDefinition, docs: Partial<Record<FunctionKey, RouteDoc>>): RouteSpec {
  const gse = gseOperationOf(route.function);
  if (gse !== undefined) return { route, gse, doc: gseRouteDoc(route.function, gse, docs[route.function]), schemaKey: gse };
  const own = docs[route.function]?.routes?.[`${route.method} ${route.path}`];
  return {
    route,
    gse: undefined,
    doc: { summary: FUNCTION_DESCRIPTIONS[route.function], ...docs[route.function], ...own },
    schemaKey: own ? `${route.function}_${route.method.toLowerCase()}${route.path.replace(/[^A-Za-z0-9]+/g, "_")}` : route.function,
  };
}

/** GSE's failures pass through this route: the GSE operations, and our routes that call GSE (RouteDoc `gse`). */
const callsGse = ({ doc, gse }: RouteSpec): boolean => gse !== undefined || doc.gse === true;

/** The 200 (and any other success status): the envelope around `data`, the bare document, or HTML. */
function successResponse(spec: RouteSpec, gathered: Gathered): OpenApiResponse {
  const { doc, gse, schemaKey } = spec;
  const success: Schema | Ref = doc.raw
    ? { type: "object", description: "An OpenAPI 3.1 document" }
    : doc.html
      ? { type: "string", description: "An HTML document" }
      : schemaRef(gathered, `${schemaKey}_response`, () => successEnvelope(doc.responseData ?? z.unknown()));
  return {
    description: gse !== undefined ? "GSE's answer in its envelope; a GSE business error is `result: false` with GSE's code" : "Success",
    headers: REQUEST_ID_HEADERS,
    content: doc.html
      ? { "text/html": { schema: success } }
      : { "application/json": { schema: callsGse(spec) ? { anyOf: [success, ref("schemas", "ErrorEnvelope")] } : success } },
  };
}

/**
 * Every shared error a route can answer, from what it is: 401, 500 and 504 (the function's own
 * timeout, lib/http/handler.ts) on every route; 400 where a body or parameters are validated, 413
 * where a body is read (the size check runs before parsing); GSE's 429/502 where GSE is called;
 * and what the route's doc adds (`errors`: 403, 404, 409…).
 */
function errorNames(spec: RouteSpec): ErrorResponseName[] {
  const { doc } = spec;
  const hasBody = doc.requestBody !== undefined;
  const validates = hasBody || doc.path !== undefined || doc.query !== undefined;
  const names = new Set<ErrorResponseName>(["Unauthenticated", "InternalError", "GatewayTimeout", ...(doc.errors ?? [])]);
  // Every route a caller's credentials open checks the caller's scope; the callback's key grants its one.
  if (spec.route.auth !== "callback-key") names.add("Forbidden");
  if (validates) names.add("BadRequest");
  if (hasBody) names.add("PayloadTooLarge");
  if (callsGse(spec)) for (const name of ["RateLimited", "BadGateway"] as const) names.add(name);
  return [...names].sort((a, b) => ERROR_RESPONSES[a].status - ERROR_RESPONSES[b].status);
}

/** Each schema property as a parameter `in` the path or query; a path parameter is always required. */
function schemaParameters(schema: z.ZodObject, where: "path" | "query"): OpenApiParameter[] {
  const json = jsonSchema(schema);
  const required = new Set(json.required ?? []);
  return Object.entries(json.properties ?? {}).map(([name, property]) => ({
    name,
    in: where,
    required: where === "path" || required.has(name),
    schema: property as Schema,
  }));
}

/**
 * The route's parameters: its path's, with the schema its handler validates them with (a path
 * parameter the doc has no schema for is a string), its query's, the callback key, the request id.
 */
function parameters({ route, doc }: RouteSpec): (OpenApiParameter | Ref)[] {
  const typed = new Map((doc.path ? schemaParameters(doc.path, "path") : []).map((p) => [p.name, p]));
  const inPath = [...route.path.matchAll(/\{(\w+)\+?\}/g)].map(
    (m): OpenApiParameter => typed.get(m[1] as string) ?? { name: m[1] as string, in: "path", required: true, schema: { type: "string" } },
  );
  const query = doc.query ? schemaParameters(doc.query, "query") : [];
  return [...inPath, ...query, ...(route.auth === "callback-key" ? [CALLBACK_KEY_PARAMETER] : []), ref("parameters", "RequestId")];
}

/** The callback's credential is its URL's key, not the caller header; a browser's may be Basic. */
function security(route: RouteDefinition): Pick<OpenApiOperation, "security"> {
  if (route.auth === "callback-key") return { security: [] };
  if (route.auth === "browser") return { security: [{ [SECURITY_SCHEME]: [] }, { [BASIC_SECURITY_SCHEME]: [] }] };
  return {};
}

function requestBody({ doc, schemaKey }: RouteSpec, gathered: Gathered): Pick<OpenApiOperation, "requestBody"> {
  const body = doc.requestBody;
  if (body === undefined) return {};
  return {
    requestBody: {
      required: doc.requestBodyOptional !== true,
      content: { "application/json": { schema: schemaRef(gathered, `${schemaKey}_request`, () => body) } },
    },
  };
}

/** The route's own error answers (RouteDoc `failures`, e.g. a 503 with its dependency report), each with its `data`. */
function failureResponses({ doc, schemaKey }: RouteSpec, gathered: Gathered): Record<string, OpenApiResponse> {
  return Object.fromEntries(
    Object.entries(doc.failures ?? {}).map(([status, failure]) => {
      const schema = schemaRef(gathered, `${schemaKey}_error_${status}`, () => failureEnvelope(failure));
      return [status, { description: failure.description, headers: REQUEST_ID_HEADERS, content: { "application/json": { schema } } }];
    }),
  );
}

function operation(spec: RouteSpec, gathered: Gathered): OpenApiOperation {
  const { route, doc, gse } = spec;
  // Schemas are gathered in this order (answer, body, own errors) so the document's is stable.
  const success = successResponse(spec, gathered);
  const body = requestBody(spec, gathered);
  const failures = failureResponses(spec, gathered);
  return {
    operationId: uniqueOperationId(gathered, gse === undefined ? route.function : gseOperationId(route)),
    summary: doc.summary ?? route.function,
    ...(gse !== undefined ? { description: gseDescription(gse, route.path) } : doc.description ? { description: doc.description } : {}),
    tags: [gse !== undefined ? gseTag(route.path) : "service"],
    parameters: parameters(spec),
    ...security(route),
    "x-required-scope": route.scope,
    ...body,
    responses: {
      "200": success,
      ...Object.fromEntries((doc.successStatuses ?? []).map((status) => [String(status), success])),
      ...errorResponses(errorNames(spec)),
      ...failures,
    },
  };
}

/** The local stack's gateway at its default port (docs/development.md). */
export const LOCAL_SERVER_URL = "http://127.0.0.1:3000";

/**
 * Where the API is served, as far as the build knows: the deployed URL is not known until deploy,
 * so the first server is relative, which OpenAPI resolves against wherever the document was
 * fetched (`GET /openapi.json` is served by the API it describes); then the local stack.
 */
export const DEFAULT_SERVERS: readonly OpenApiServer[] = [
  { url: "/", description: "The API this document was fetched from (resolved against the document's own URL)" },
  { url: LOCAL_SERVER_URL, description: "The local stack (`npm start`) at its default port" },
];

const LOOPBACK_HOST = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?$/;
const HOST = /^([A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:]+\])(:\d{1,5})?$/;

/**
 * The origin a request reached us at: API Gateway's `requestContext.domainName` (the host it was
 * addressed to) and `X-Forwarded-Proto`; without the header, https but on loopback (the local
 * gateway). Undefined when the event does not say, or says something that is not a host.
 */
export function requestOrigin(event: Pick<APIGatewayProxyEventV2, "requestContext" | "headers">): string | undefined {
  const host = event.requestContext?.domainName;
  if (!host || !HOST.test(host)) return undefined;
  const forwarded = event.headers?.["x-forwarded-proto"];
  const scheme = forwarded === "http" || forwarded === "https" ? forwarded : LOOPBACK_HOST.test(host) ? "http" : "https";
  return `${scheme}://${host}`;
}

/**
 * The document as served to one request: its own origin first, so a tool that fetched it calls the
 * same API, and one that keeps the file (where "/" no longer resolves) still knows where it came from.
 */
export function servedDocument(document: OpenApiDocument, event: Pick<APIGatewayProxyEventV2, "requestContext" | "headers">): OpenApiDocument {
  const origin = requestOrigin(event);
  if (origin === undefined) return document;
  const others = document.servers.filter((server) => server.url !== origin);
  return { ...document, servers: [{ url: origin, description: "The API that served this document" }, ...others] };
}

export interface OpenApiOptions {
  readonly title?: string;
  readonly version?: string;
  /** Where the API is served; defaults to {@link DEFAULT_SERVERS}. */
  readonly servers?: readonly OpenApiServer[];
  /** Per-function documentation; defaults to {@link SERVICE_ROUTE_DOCS}. */
  readonly docs?: Partial<Record<FunctionKey, RouteDoc>>;
}

/** The OpenAPI 3.1 document for `routes`: every route, and nothing that is not a route. */
export function buildOpenApiDocument(routes: readonly RouteDefinition[], options: OpenApiOptions = {}): OpenApiDocument {
  const docs = options.docs ?? SERVICE_ROUTE_DOCS;
  const gathered: Gathered = { schemas: { ErrorEnvelope: jsonSchema(errorEnvelope) }, operationIds: new Set() };
  const paths: Record<string, OpenApiPathItem> = {};
  for (const route of routes) {
    const path = openApiPath(route.path);
    paths[path] ??= {};
    const item = paths[path];
    item[lower(route.method)] = operation(routeSpec(route, docs), gathered);
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
    servers: options.servers ?? DEFAULT_SERVERS,
    security: [{ [SECURITY_SCHEME]: [] }],
    tags: [...GSE_TAGS, { name: "service", description: "gse-control's own routes" }],
    paths,
    components: components(gathered.schemas),
  };
}
