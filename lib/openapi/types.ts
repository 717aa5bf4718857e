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
}

export type OpenApiPathItem = Partial<Record<Lowercase<HttpMethod>, OpenApiOperation>>;

export interface OpenApiComponents {
  readonly securitySchemes: Readonly<Record<string, unknown>>;
  readonly schemas: Readonly<Record<string, Schema>>;
  readonly responses: Readonly<Record<string, OpenApiResponse>>;
  readonly parameters: Readonly<Record<string, OpenApiParameter>>;
  readonly headers: Readonly<Record<string, { readonly description: string; readonly schema: Schema }>>;
}

export interface OpenApiDocument {
  readonly openapi: typeof OPENAPI_VERSION;
  readonly jsonSchemaDialect: typeof JSON_SCHEMA_DIALECT;
  readonly info: { readonly title: string; readonly version: string; readonly description: string };
  readonly servers?: readonly { readonly url: string }[];
  readonly security: readonly Readonly<Record<string, readonly string[]>>[];
  readonly tags: readonly { readonly name: string; readonly description: string }[];
  readonly paths: Readonly<Record<string, OpenApiPathItem>>;
  readonly components: OpenApiComponents;
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
