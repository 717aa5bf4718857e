import type { Logger } from "@aws-lambda-powertools/logger";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy, { type MiddlewareObj } from "@middy/core";
import httpHeaderNormalizer from "@middy/http-header-normalizer";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import { randomUUID } from "node:crypto";
import type { z } from "zod";
import type { Caller } from "../core/config.ts";
import { processMetrics } from "../core/metrics.ts";
import { BodyTooLargeError, MalformedJsonError, RequestTimeoutError, UnauthenticatedError, ValidationError } from "../core/errors.ts";
import { REQUEST_TIMEOUT_MARGIN_MS, RequestDeadline } from "../core/deadline.ts";
import { AUTH_HEADER, authenticate, authorize, credentialsFromBody, ESB_PATH_PREFIX, type AuthenticatedCaller } from "./auth.ts";
import { ok } from "./envelope.ts";
import { errorResponse } from "./errors.ts";
import { malformedJsonMessage } from "./json-error.ts";
import { requiredScope } from "./route-scopes.ts";
import { assertJsonLimits } from "./json-limits.ts";

/** Bodies above this are refused before parsing, unless the route sets its own limit. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/**
 * Lambda refuses a synchronous invocation whose request payload is this large or larger, and the
 * payload is API Gateway's whole event as JSON (headers, request context, the body escaped or
 * base64-encoded), not the body alone; API Gateway then answers 413 itself. Its own 10 MB body
 * limit is never the one that bites. The local gateway enforces this (local/gateway.ts).
 */
export const LAMBDA_SYNC_PAYLOAD_LIMIT_BYTES = 6 * 1024 * 1024;

/**
 * The largest body limit a route may set: Lambda's limit less room for the event around the body
 * (up to 10 KB of headers, the request context, and the escaping of a valid dispatch body's quotes;
 * test/unit/local/gateway.test.ts measures the worst one). dispatch_message takes this much.
 */
export const MAX_ROUTE_BODY_BYTES = 5 * 1024 * 1024;

const REQUEST_ID_HEADERS = ["x-bkapi-request-id", "x-request-id"] as const;

export interface HttpRequestContext<Body> {
  readonly body: Body;
  readonly event: APIGatewayProxyEventV2;
  readonly caller: AuthenticatedCaller;
  readonly requestId: string;
  readonly logger: Logger;
  /** When the request answers 504; name the object or command worked on with `deadline.working`. */
  readonly deadline: RequestDeadline;
}

export interface HttpReply<T> {
  readonly status?: number;
  readonly data: T;
  readonly headers?: Readonly<Record<string, string>>;
  /** The data is the whole body, without the envelope: for documents other tools read (OpenAPI). */
  readonly raw?: boolean;
}

/** A document that is not JSON (the status page's HTML): sent as it is, with its content type. */
export interface HttpTextReply {
  readonly status?: number;
  readonly text: string;
  readonly contentType: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface HttpHandlerOptions<S extends z.ZodType | undefined> {
  /** Name used in logs. */
  readonly name: string;
  readonly logger: Logger;
  /** The API's callers (the X-Bkapi-Authorization header); or `authenticate` for a route GSE itself calls. */
  readonly callers?: readonly Caller[];
  readonly authenticate?: (event: APIGatewayProxyEventV2) => AuthenticatedCaller;
  /** Schema of the JSON body; routes without one take no body. */
  readonly body?: S;
  /** At most MAX_ROUTE_BODY_BYTES. */
  readonly maxBodyBytes?: number;
  /** What a caller whose body is over the limit should do instead; said in the 413's message. */
  readonly maxBodyHint?: string;
}

interface Internal extends Record<string, unknown> {
  startedAt?: number;
}

/** Lambda's context, plus what the edge middlewares established for this request. */
export interface HttpContext extends Context {
  gseRequestId?: string;
  gseCaller?: AuthenticatedCaller;
}

type HttpEvent = APIGatewayProxyEventV2;
type HttpResult = APIGatewayProxyStructuredResultV2;
type Middleware = MiddlewareObj<HttpEvent, HttpResult, Error, HttpContext, Internal>;

/** JSON.parse reviver: keys that could reach an object's prototype are dropped at the edge. */
function dropPrototypeKeys(key: string, value: unknown): unknown {
  return key === "__proto__" || key === "constructor" || key === "prototype" ? undefined : value;
}

function headerValue(event: HttpEvent, name: string): string | undefined {
  const value = event.headers?.[name];
  return value === undefined || value === "" ? undefined : value;
}

/** Request id from the caller (echoed back, as GSE's gateway does) or a new one. */
function requestEdge(logger: Logger, name: string): Middleware {
  const respond = (requestId: string, response: HttpResult): HttpResult => ({
    ...response,
    headers: { ...response.headers, "x-bkapi-request-id": requestId, "x-request-id": requestId },
  });
  const accessLog = (event: HttpEvent, internal: Internal, caller: AuthenticatedCaller | undefined, status: number | undefined): void => {
    logger.info("request", {
      route: name,
      method: event.requestContext?.http?.method,
      path: event.rawPath,
      status,
      duration_ms: internal.startedAt === undefined ? undefined : Date.now() - internal.startedAt,
      app_code: caller?.appCode,
    });
  };
  return {
    before: async function requestEdgeBefore(request) {
      const fromCaller = REQUEST_ID_HEADERS.map((h) => headerValue(request.event, h)).find(Boolean);
      // A caller's id is echoed only when it is a plain token; anything else could forge log lines.
      const requestId = fromCaller && /^[\w.:-]{1,128}$/.test(fromCaller) ? fromCaller : request.event.requestContext?.requestId || randomUUID();
      request.context.gseRequestId = requestId;
      request.internal.startedAt = Date.now();
      logger.appendKeys({ request_id: requestId });
    },
    after: async function requestEdgeAfter(request) {
      const requestId = request.context.gseRequestId ?? randomUUID();
      request.response = respond(requestId, request.response ?? { statusCode: 204 });
      accessLog(request.event, request.internal, request.context.gseCaller, request.response.statusCode);
    },
    onError: async function requestEdgeOnError(request) {
      const requestId = request.context.gseRequestId ?? randomUUID();
      request.response = respond(requestId, errorResponse(request.error, requestId, logger));
      accessLog(request.event, request.internal, request.context.gseCaller, request.response.statusCode);
    },
  };
}

/**
 * Writes the invocation's metrics (lib/core/metrics.ts) as it ends. Used first, so that its
 * `after` and `onError` run last, once every other middleware is done.
 */
function metricsFlush(): Middleware {
  const flush = async function metricsFlushAfter(): Promise<void> {
    processMetrics().flush();
  };
  return { after: flush, onError: flush };
}

function authentication(callers: readonly Caller[], custom: ((event: HttpEvent) => AuthenticatedCaller) | undefined): Middleware {
  const identify = (event: HttpEvent): AuthenticatedCaller => {
    if (custom) return custom(event);
    const header = headerValue(event, AUTH_HEADER);
    // Only on ESB paths, and only without the header: there, body credentials are GSE's contract.
    const fromBody = header === undefined && event.rawPath?.startsWith(ESB_PATH_PREFIX) && !event.isBase64Encoded ? credentialsFromBody(event.body) : undefined;
    return authenticate(header ?? fromBody, callers);
  };
  return {
    before: async function authenticationBefore(request) {
      const caller = identify(request.event);
      request.context.gseCaller = caller;
      // The route's scope, from the route table by API Gateway's routeKey; unknown routes need admin.
      authorize(caller, await requiredScope(request.event.routeKey));
    },
  };
}

const MIB = 1024 * 1024;
const sizeOf = (bytes: number): string => `${bytes} bytes${bytes >= MIB ? ` (${Number((bytes / MIB).toFixed(2))} MiB)` : ""}`;

function bodySizeLimit(maxBytes: number, hint: string | undefined): Middleware {
  if (maxBytes > MAX_ROUTE_BODY_BYTES) throw new Error(`a body limit of ${maxBytes} bytes would not fit in Lambda's payload; at most ${MAX_ROUTE_BODY_BYTES}`);
  return {
    before: async function bodySizeLimitBefore(request) {
      const { body, isBase64Encoded } = request.event;
      if (body === undefined) return;
      const bytes = isBase64Encoded ? Math.floor((body.length * 3) / 4) : Buffer.byteLength(body, "utf8");
      if (bytes > maxBytes) {
        throw new BodyTooLargeError(`request body is ${bytes} bytes; the limit is ${sizeOf(maxBytes)}${hint ? `: ${hint}` : ""}`);
      }
    },
  };
}

/**
 * Parses the body as JSON whatever the content type: GSE's clients all send JSON, and a curl
 * without the header is not worth refusing.
 */
function jsonBody(): Middleware {
  return {
    before: async function jsonBodyBefore(request) {
      const { body, isBase64Encoded } = request.event;
      if (body === undefined || body === "") return;
      const text = isBase64Encoded ? Buffer.from(body, "base64").toString("utf8") : body;
      let parsed: unknown;
      try {
        parsed = JSON.parse(text, dropPrototypeKeys);
      } catch {
        // The parser's own message quotes the body (a password in it, too): the position only.
        throw new MalformedJsonError(malformedJsonMessage(text));
      }
      // Depth, numbers, keys and Unicode that DynamoDB would refuse later: 400 naming the field now.
      assertJsonLimits(parsed);
      (request.event as { body?: unknown }).body = parsed;
    },
  };
}

/**
 * Middy's own early timeout, a fallback should the handler's deadline (REQUEST_TIMEOUT_MARGIN_MS
 * before Lambda's, so it comes first) not answer: a 504 that names nothing, where middy's default
 * error would be answered 500.
 */
const timeoutEarly = {
  timeoutEarlyInMillis: Math.floor(REQUEST_TIMEOUT_MARGIN_MS / 2),
  timeoutEarlyResponse: (): never => {
    throw new RequestTimeoutError();
  },
};

/** The request's deadline from Lambda's remaining time; without one (a test's bare context), never. */
function requestDeadline(context: Context): RequestDeadline {
  const remaining = typeof context.getRemainingTimeInMillis === "function" ? context.getRemainingTimeInMillis() : Number.NaN;
  return Number.isFinite(remaining) ? RequestDeadline.fromRemaining(Date.now(), remaining) : new RequestDeadline(Number.POSITIVE_INFINITY);
}

export function validate<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  throw new ValidationError(parsed.error.issues.map((issue) => ({ path: issue.path.map(String).join("."), message: issue.message })));
}

/**
 * The one way to build an HTTP handler: request id, authentication, body limit, JSON parsing,
 * zod validation, the envelope, error mapping, and the metrics flush. The handler function gets validated input.
 */
export function httpHandler<S extends z.ZodType | undefined = undefined>(
  options: HttpHandlerOptions<S>,
  fn: (ctx: HttpRequestContext<S extends z.ZodType ? z.infer<S> : undefined>) => Promise<HttpReply<unknown> | HttpTextReply>,
) {
  const { logger, name } = options;
  let stack = middy<HttpEvent, HttpResult, Error, HttpContext, Internal>(undefined, timeoutEarly)
    .use(metricsFlush())
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(httpHeaderNormalizer())
    .use(requestEdge(logger, name))
    // Before authentication: ESB body credentials mean parsing, and no body that large is parsed.
    .use(bodySizeLimit(options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES, options.maxBodyHint))
    .use(authentication(options.callers ?? [], options.authenticate));
  if (options.body) stack = stack.use(jsonBody());
  return stack.handler(async function httpHandlerInvoke(event, context) {
    const requestId = context.gseRequestId ?? randomUUID();
    const caller = context.gseCaller;
    // Unreachable: authentication runs first and throws; kept so the type needs no assertion.
    if (!caller) throw new UnauthenticatedError("not authenticated");
    const rawBody: unknown = event.body;
    const body = options.body ? validate(options.body, rawBody ?? {}) : undefined;
    const deadline = requestDeadline(context);
    const work = fn({
      body: body as S extends z.ZodType ? z.infer<S> : undefined,
      event,
      caller,
      requestId,
      logger,
      deadline,
    });
    const reply = await deadline.race(work, Date.now());
    if ("text" in reply) return { statusCode: reply.status ?? 200, headers: { ...reply.headers, "content-type": reply.contentType }, body: reply.text };
    return {
      statusCode: reply.status ?? 200,
      headers: { "content-type": "application/json; charset=utf-8", ...reply.headers },
      body: JSON.stringify(reply.raw ? reply.data : ok(reply.data, requestId)),
    };
  });
}
