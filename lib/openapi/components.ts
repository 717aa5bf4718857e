/**
 * The reusable parts of the OpenAPI document: zod → JSON Schema, our success and error envelopes
 * (lib/http/envelope.ts), the error responses every route shares, and the `components` section.
 */
import * as z from "zod";
import { esbEnvelopeSchema } from "../gse/schemas.ts";
import { AUTH_HEADER } from "../http/auth.ts";
import { BASIC_SECURITY_SCHEME, SECURITY_SCHEME, type OpenApiComponents, type OpenApiResponse, type Ref, type Schema } from "./types.ts";

/**
 * A record keyed by an enum (`z.record(z.enum([...]), v)`) is emitted as `propertyNames` + `required`
 * without `properties`, which linters read as requiring undefined properties; the same object said
 * plainly is each key a property (all required) and no other key.
 */
function enumKeyedRecord(node: Schema): void {
  const keys = (node.propertyNames as Schema | undefined)?.enum;
  const value = node.additionalProperties;
  if (node.type !== "object" || node.properties !== undefined || !Array.isArray(keys) || typeof value !== "object") return;
  node.properties = Object.fromEntries(keys.map((key) => [String(key), { ...value }]));
  node.additionalProperties = false;
  delete node.propertyNames;
}

/**
 * A path or query number is parsed from its decimal text (lib/http/params.ts): zod emits that
 * text's pattern and default beside the `integer` the schema says it is; the document shows the integer.
 */
function decimalTextAsInteger(node: Schema): void {
  if (node.type !== "integer") return;
  delete node.pattern;
  if (typeof node.default === "string" && /^-?\d+$/.test(node.default)) node.default = Number(node.default);
}

/**
 * `z.unknown().nullable()` (a plan's `before`/`after`: any document, or null) is emitted as
 * `anyOf: [{}, {type: null}]`, whose first branch already takes null; said plainly it is `{}`.
 */
function nullableAny(node: Schema): void {
  const branches = node.anyOf;
  if (!Array.isArray(branches) || branches.length !== 2) return;
  const [any, nil] = branches as Schema[];
  if (!any || Object.keys(any).length !== 0 || nil?.type !== "null" || Object.keys(nil).length !== 1) return;
  delete node.anyOf;
}

/** zod → JSON Schema 2020-12 as the wire carries it (`io: "input"`: before defaults/transforms). */
export function jsonSchema(schema: z.ZodType): Schema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, {
    target: "draft-2020-12",
    io: "input",
    unrepresentable: "any",
    override: ({ jsonSchema: node }) => {
      enumKeyedRecord(node);
      decimalTextAsInteger(node);
      nullableAny(node);
    },
  });
  return rest;
}

export const ref = (section: "schemas" | "responses" | "parameters" | "headers", name: string): Ref => ({ $ref: `#/components/${section}/${name}` });

/** Every answer carries the request id header, also in the body's `request_id`. */
export const REQUEST_ID_HEADERS: Readonly<Record<string, Ref>> = { "X-Bkapi-Request-Id": ref("headers", "RequestId") };

/** Our success answer: GSE's envelope with `result: true`, `code: 0` (lib/http/envelope.ts `ok`). */
export function successEnvelope(data: z.ZodType): z.ZodType {
  return esbEnvelopeSchema(data).extend({ result: z.literal(true), code: z.literal(0), request_id: z.string() });
}

/** Our error answer (lib/http/envelope.ts `failure`): GSE's envelope with `result: false` and a `code_name`. */
export const errorEnvelope = esbEnvelopeSchema(z.unknown()).extend({
  result: z.literal(false),
  code: z.int(),
  code_name: z.string(),
  request_id: z.string(),
});

/** A route's own error answer (RouteDoc `failures`): the envelope with its code, code name and `data`. */
export function failureEnvelope(failure: { readonly code?: number; readonly codeName?: string; readonly data?: z.ZodType }): z.ZodType {
  return errorEnvelope.extend({
    ...(failure.code !== undefined ? { code: z.literal(failure.code) } : {}),
    ...(failure.codeName !== undefined ? { code_name: z.literal(failure.codeName) } : {}),
    data: failure.data ?? z.unknown(),
  });
}

/**
 * The error answers routes share, each with its status (lib/core/errors.ts, lib/http/handler.ts),
 * in the envelope `errorResponse` builds (lib/http/errors.ts).
 */
export const ERROR_RESPONSES = {
  BadRequest: {
    status: 400,
    description:
      "Body is not valid JSON (INVALID_JSON) or body, path or query parameters fail validation (INVALID_ARGS); `data.errors` lists `{path, message}` per field. Nothing changes, GSE is not called.",
  },
  Unauthenticated: { status: 401, description: `Missing or wrong ${AUTH_HEADER} header (UNAUTHENTICATED), or callback key.` },
  Forbidden: {
    status: 403,
    description:
      "Not allowed (APP_NO_PERMISSION): the caller lacks the route's scope (`x-required-scope`, named in `data.required_scope`), or e.g. a dispatch_message names another slot_id/token.",
  },
  NotFound: { status: 404, description: "What the path names does not exist (API_NOT_FOUND)." },
  Conflict: {
    status: 409,
    description: "The request conflicts with the current state (CONFLICT): another change holds the object, a stale revision, an id taken; `data` says which.",
  },
  PayloadTooLarge: {
    status: 413,
    description:
      "Body above the route's size limit (BODY_SIZE_LIMIT_EXCEED). Nothing changes, GSE is not called. (Above API Gateway's own 10 MB the gateway refuses it first, outside this envelope.)",
  },
  RateLimited: { status: 429, description: "GSE's gateway rate-limited the call (RATE_LIMIT_RESTRICTION); `Retry-After` says when to try again." },
  InternalError: { status: 500, description: "Unexpected failure (INTERNAL_ERROR); the message is generic." },
  BadGateway: {
    status: 502,
    description:
      "GSE unreachable or failed (BAD_GATEWAY); for a write, nothing could be confirmed. A versioned change GSE accepted but does not hold is CONFIG_NOT_APPLIED (recovery restores the last good version).",
  },
  GatewayTimeout: {
    status: 504,
    description:
      "GSE did not answer in time (REQUEST_BACKEND_TIMEOUT), or the request ran out of time before it could answer (REQUEST_TIMEOUT, any route): `data.outcome` is `unknown`, `data.object` or `data.message_id` names what it was changing and `data.check` the request that shows how it ended (docs/api.md, Timeouts).",
  },
} as const satisfies Record<string, { readonly status: number; readonly description: string }>;
export type ErrorResponseName = keyof typeof ERROR_RESPONSES;

/** The shared error responses `names` refer to, by their status. */
export function errorResponses(names: Iterable<ErrorResponseName>): Record<string, Ref> {
  return Object.fromEntries([...names].map((name) => [String(ERROR_RESPONSES[name].status), ref("responses", name)]));
}

const SECURITY_SCHEMES = {
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
};

/** The `components` section: `schemas` are the ones the routes referred to while being documented. */
export function components(schemas: Readonly<Record<string, Schema>>): OpenApiComponents {
  return {
    securitySchemes: SECURITY_SCHEMES,
    schemas,
    responses: Object.fromEntries(
      Object.entries(ERROR_RESPONSES).map(([name, { description }]): [string, OpenApiResponse] => [
        name,
        { description, headers: REQUEST_ID_HEADERS, content: { "application/json": { schema: ref("schemas", "ErrorEnvelope") } } },
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
  };
}
