/**
 * The reusable parts of the OpenAPI document: zod → JSON Schema, our success and error envelopes
 * (lib/http/envelope.ts), the error responses every route shares, and the `components` section.
 */
import { z } from "zod";
import { esbEnvelopeSchema } from "../gse/schemas.ts";
import { AUTH_HEADER } from "../http/auth.ts";
import { BASIC_SECURITY_SCHEME, SECURITY_SCHEME, type OpenApiComponents, type OpenApiResponse, type Ref, type Schema } from "./types.ts";

/** zod → JSON Schema 2020-12 as the wire carries it (`io: "input"`: before defaults/transforms). */
export function jsonSchema(schema: z.ZodType): Schema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { target: "draft-2020-12", io: "input", unrepresentable: "any" });
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

/** The 503 of a route whose dependency is down (lib/core/errors.ts DependencyUnavailableError), with its `data`. */
export const unavailableEnvelope = (data: z.ZodType): z.ZodType =>
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
export type ErrorResponseName = keyof typeof ERROR_RESPONSES;

/** The shared error responses a route can answer, by status; `false` = not this route. */
export function errorResponses(byStatus: Readonly<Record<number, ErrorResponseName | false>>): Record<string, Ref> {
  return Object.fromEntries(Object.entries(byStatus).flatMap(([status, name]) => (name === false ? [] : [[status, ref("responses", name)] as const])));
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
      Object.entries(ERROR_RESPONSES).map(([name, description]): [string, OpenApiResponse] => [
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
