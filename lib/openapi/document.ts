/**
 * The OpenAPI 3.1 description of this API, generated from what serves it: the route table
 * (lib/routes.ts, lib/wiring.ts), the operation catalogue and its zod schemas (gse-paths.ts) and
 * our own routes' notes (service-paths.ts). Nothing here restates a shape: request bodies are the
 * schemas the handlers validate with, responses wrap each route's `data` schema in GSE's envelope.
 * OpenAPI 3.1 schemas are JSON Schema 2020-12, which is what zod's `toJSONSchema` emits.
 */
import { z } from "zod";
import type { OperationName } from "../gse/operations.ts";
import { CALLBACK_KEY_PARAM } from "../http/auth.ts";
import type { HttpMethod, RouteDefinition } from "../routes.ts";
import { FUNCTIONS, type FunctionKey } from "../wiring.ts";
import {
  components,
  errorEnvelope,
  errorResponses,
  jsonSchema,
  ref,
  REQUEST_ID_HEADERS,
  successEnvelope,
  unavailableEnvelope,
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
    doc: { summary: FUNCTIONS[route.function].description, ...docs[route.function], ...own },
    schemaKey: own ? `${route.function}_${route.method.toLowerCase()}${route.path.replace(/[^A-Za-z0-9]+/g, "_")}` : route.function,
  };
}

/** The 200 (and any other success status): the envelope around `data`, the bare document, or HTML. */
function successResponse({ doc, gse, schemaKey }: RouteSpec, gathered: Gathered): OpenApiResponse {
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
      : { "application/json": { schema: gse !== undefined ? { anyOf: [success, ref("schemas", "ErrorEnvelope")] } : success } },
  };
}

/** The shared errors a route can answer: body errors only with a body, GSE's only where GSE is called. */
function errorStatuses({ doc, gse }: RouteSpec): Record<number, ErrorResponseName | false> {
  const hasBody = doc.requestBody !== undefined;
  return {
    400: hasBody && "BadRequest",
    401: "Unauthenticated",
    403: "Forbidden",
    413: hasBody && "PayloadTooLarge",
    429: gse !== undefined && "RateLimited",
    500: "InternalError",
    502: gse !== undefined && "BadGateway",
    504: gse !== undefined && "GatewayTimeout",
  };
}

function parameters(route: RouteDefinition): (OpenApiParameter | Ref)[] {
  const inPath = [...route.path.matchAll(/\{(\w+)\+?\}/g)].map(
    (m): OpenApiParameter => ({ name: m[1] as string, in: "path", required: true, schema: { type: "string" } }),
  );
  return [...inPath, ...(route.auth === "callback-key" ? [CALLBACK_KEY_PARAMETER] : []), ref("parameters", "RequestId")];
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
  return { requestBody: { required: true, content: { "application/json": { schema: schemaRef(gathered, `${schemaKey}_request`, () => body) } } } };
}

/** The 503 of a route that names a dependency it rests on, with that route's `data`. */
function unavailableResponse({ doc, schemaKey }: RouteSpec, gathered: Gathered): Record<string, OpenApiResponse> {
  const unavailable = doc.unavailable;
  if (unavailable === undefined) return {};
  const schema = schemaRef(gathered, `${schemaKey}_unavailable`, () => unavailableEnvelope(unavailable.data ?? z.unknown()));
  return { "503": { description: unavailable.description, headers: REQUEST_ID_HEADERS, content: { "application/json": { schema } } } };
}

function operation(spec: RouteSpec, gathered: Gathered): OpenApiOperation {
  const { route, doc, gse } = spec;
  // Schemas are gathered in this order (answer, body, 503) so the document's is stable.
  const success = successResponse(spec, gathered);
  const body = requestBody(spec, gathered);
  const unavailable = unavailableResponse(spec, gathered);
  return {
    operationId: uniqueOperationId(gathered, gse === undefined ? route.function : gseOperationId(route)),
    summary: doc.summary ?? route.function,
    ...(gse !== undefined ? { description: gseDescription(gse, route.path) } : doc.description ? { description: doc.description } : {}),
    tags: [gse !== undefined ? gseTag(route.path) : "service"],
    parameters: parameters(route),
    ...security(route),
    ...body,
    responses: {
      "200": success,
      ...Object.fromEntries((doc.successStatuses ?? []).map((status) => [String(status), success])),
      ...errorResponses(errorStatuses(spec)),
      ...unavailable,
    },
  };
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
    ...(options.servers ? { servers: options.servers } : {}),
    security: [{ [SECURITY_SCHEME]: [] }],
    tags: [...GSE_TAGS, { name: "service", description: "gse-control's own routes" }],
    paths,
    components: components(gathered.schemas),
  };
}
