/**
 * The shapes of the OpenAPI 3.1 document we serve (lib/openapi/document.ts) and of the notes a
 * route's function adds to it (`RouteDoc`, written in lib/openapi/service-paths.ts).
 */
import type { z } from "zod";
import type { JSONSchema } from "zod/v4/core";
import type { HttpMethod } from "../routes.ts";

export const OPENAPI_VERSION = "3.1.0";
export const JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema";
export const SECURITY_SCHEME = "BkApiAuthorization";
/** The same caller credentials by HTTP Basic, on the routes a browser opens (route auth `browser`). */
export const BASIC_SECURITY_SCHEME = "BasicAuth";

export type Schema = JSONSchema.BaseSchema;
export type Ref = { readonly $ref: string };

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
  /** The scope a caller needs (lib/routes.ts `scope`); without it the answer is 403 naming it. */
  readonly "x-required-scope": string;
}

export type OpenApiPathItem = Partial<Record<Lowercase<HttpMethod>, OpenApiOperation>>;

export interface OpenApiComponents {
  readonly securitySchemes: Readonly<Record<string, unknown>>;
  readonly schemas: Readonly<Record<string, Schema>>;
  readonly responses: Readonly<Record<string, OpenApiResponse>>;
  readonly parameters: Readonly<Record<string, OpenApiParameter>>;
  readonly headers: Readonly<Record<string, { readonly description: string; readonly schema: Schema }>>;
}

/** Where the API is served; `variables` fill the `{name}`s of `url`. */
export interface OpenApiServer {
  readonly url: string;
  readonly description?: string;
  readonly variables?: Readonly<Record<string, { readonly default: string; readonly description?: string }>>;
}

export interface OpenApiDocument {
  readonly openapi: typeof OPENAPI_VERSION;
  readonly jsonSchemaDialect: typeof JSON_SCHEMA_DIALECT;
  readonly info: {
    readonly title: string;
    readonly version: string;
    readonly description: string;
    readonly license?: { readonly name: string; readonly identifier?: string; readonly url?: string };
  };
  readonly servers: readonly OpenApiServer[];
  readonly security: readonly Readonly<Record<string, readonly string[]>>[];
  readonly tags: readonly { readonly name: string; readonly description: string }[];
  readonly paths: Readonly<Record<string, OpenApiPathItem>>;
  readonly components: OpenApiComponents;
}

/**
 * The errors a route answers beyond the ones every route shares (401, 500) and the ones its shape
 * implies (400 for a body or validated parameters, 413 for a body, GSE's 429/502/504 with `gse`),
 * by the name of the shared response (lib/openapi/components.ts `ERROR_RESPONSES`).
 */
export type RouteErrorName = "BadRequest" | "Forbidden" | "NotFound" | "Conflict" | "BadGateway";

/** A route-specific error answer: what it means here and its envelope's `code_name` and `data`. */
export interface RouteFailure {
  readonly description: string;
  readonly codeName?: string;
  readonly code?: number;
  readonly data?: z.ZodType;
}

/** How one function's routes are documented; GSE operations are derived from the catalogue. */
export interface RouteDoc {
  readonly summary?: string;
  readonly description?: string;
  /** Schema of the JSON body the handler validates with; absent = no body. */
  readonly requestBody?: z.ZodType;
  /** The body may be left out (it means `{}`). */
  readonly requestBodyOptional?: boolean;
  /** Schema of the envelope's `data` on success; absent = any JSON value. */
  readonly responseData?: z.ZodType;
  /** Statuses other than 200 that still carry a success envelope (e.g. an APM app's 201). */
  readonly successStatuses?: readonly number[];
  /** The path parameters' schema the handler validates with (`parametersOf`); absent = each a string. */
  readonly path?: z.ZodObject;
  /** The query parameters' schema the handler validates with; a field without a default and not optional is required. */
  readonly query?: z.ZodObject;
  /** Errors this route answers beyond those every route or its shape implies (see {@link RouteErrorName}). */
  readonly errors?: readonly RouteErrorName[];
  /**
   * The route calls GSE and passes its failures through as the GSE routes do: a business error as
   * HTTP 200 with `result: false`, the gateway's 429/502/504.
   */
  readonly gse?: boolean;
  /** Route-specific error answers by status, replacing the shared one for that status (e.g. APM's 502 DATASOURCE_APPLY_FAILED). */
  readonly failures?: Readonly<Record<number, RouteFailure>>;
  /** The answer is the bare document, without the envelope (lib/http/handler.ts `raw`). */
  readonly raw?: boolean;
  /** The answer is an HTML page (lib/http/handler.ts text reply), not JSON. */
  readonly html?: boolean;
  /** For a function serving several routes: what differs per route, by `"<METHOD> <path>"`. */
  readonly routes?: Readonly<Record<string, Omit<RouteDoc, "routes">>>;
}
