import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";
import { NotFoundError, ValidationError } from "../lib/core/errors.ts";
import { failure } from "../lib/http/envelope.ts";
import { LAMBDA_SYNC_PAYLOAD_LIMIT_BYTES } from "../lib/http/handler.ts";
import { withoutTrailingSlash } from "../lib/gse/paths.ts";
import type { RouteDefinition } from "../lib/routes.ts";
import { LOCAL_ACCOUNT } from "./aws.ts";
import type { Invoke } from "./invoke.ts";

/**
 * What API Gateway (HTTP API) answers when Lambda refuses the invocation as too large. It is
 * API Gateway's own answer, not GSE's envelope: in AWS no code of ours runs to shape it.
 */
const TOO_LARGE = { status: 413, body: JSON.stringify({ message: "Request Entity Too Large" }) } as const;

/** The event's size as Lambda counts its payload: the JSON it is sent as. */
export const eventBytes = (event: APIGatewayProxyEventV2): number => Buffer.byteLength(JSON.stringify(event), "utf8");

export interface RouteMatch {
  readonly route: RouteDefinition;
  readonly pathParameters: Record<string, string>;
}

/**
 * API Gateway HTTP API matching: literal segments, `{name}` for one segment, `{name+}` greedy;
 * a trailing slash is ignored, as API Gateway does. Throws MalformedPathError for a parameter that
 * does not decode.
 */
/**
 * A path parameter that is not valid percent-encoding (`%E0%A4%A`): API Gateway refuses the request
 * before any function runs, so the gateway answers 400 rather than let decodeURIComponent's URIError
 * end the runtime.
 */
export class MalformedPathError extends ValidationError {
  constructor(readonly segment: string) {
    super([{ path: "path", message: `not valid percent-encoding: ${JSON.stringify(segment.slice(0, 100))}` }]);
  }
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new MalformedPathError(segment);
  }
}

export function matchRoute(routes: readonly RouteDefinition[], method: string, path: string): RouteMatch | undefined {
  const segments = withoutTrailingSlash(path).split("/").slice(1);
  for (const route of routes) {
    if (route.method !== method) continue;
    const pattern = route.path.split("/").slice(1);
    const pathParameters: Record<string, string> = {};
    let matched = true;
    for (let i = 0; i < pattern.length && matched; i++) {
      const part = pattern[i] as string;
      const greedy = /^\{(\w+)\+\}$/.exec(part);
      if (greedy) {
        const rest = segments.slice(i).join("/");
        pathParameters[greedy[1] as string] = decodeSegment(rest);
        matched = rest.length > 0;
        if (matched) return { route, pathParameters };
        break;
      }
      const segment = segments[i];
      const param = /^\{(\w+)\}$/.exec(part);
      if (segment === undefined) matched = false;
      else if (param) pathParameters[param[1] as string] = decodeSegment(segment);
      else matched = part === segment;
    }
    if (matched && segments.length === pattern.length) return { route, pathParameters };
  }
  return undefined;
}

const TEXT_TYPES = /^(application\/(.+\+)?json|text\/|application\/x-www-form-urlencoded)/;

export function toEvent(req: IncomingMessage, body: Buffer, match: RouteMatch, sourceIp: string): APIGatewayProxyEventV2 {
  const url = new URL(req.url ?? "/", "http://local");
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || name === "cookie") continue;
    headers[name] = Array.isArray(value) ? value.join(",") : value;
  }
  const query: Record<string, string> = {};
  for (const [key, value] of url.searchParams) query[key] = key in query ? `${query[key]},${value}` : value;
  const contentType = headers["content-type"] ?? "";
  const isText = body.length === 0 || contentType === "" || TEXT_TYPES.test(contentType);
  const now = new Date();
  const routeKey = `${match.route.method} ${match.route.path}`;
  return {
    version: "2.0",
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    ...(req.headers.cookie ? { cookies: req.headers.cookie.split(/;\s*/) } : {}),
    headers,
    ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
    ...(Object.keys(match.pathParameters).length ? { pathParameters: match.pathParameters } : {}),
    requestContext: {
      accountId: LOCAL_ACCOUNT,
      apiId: "local",
      domainName: headers.host ?? "localhost",
      domainPrefix: (headers.host ?? "localhost").split(".")[0] ?? "localhost",
      http: {
        method: req.method ?? "GET",
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp,
        userAgent: headers["user-agent"] ?? "",
      },
      requestId: randomUUID(),
      routeKey,
      stage: "$default",
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(body.length ? { body: isText ? body.toString("utf8") : body.toString("base64") } : {}),
    isBase64Encoded: !isText,
  };
}

function send(res: ServerResponse, status: number, headers: Record<string, string | number | boolean>, body: string | Buffer): void {
  res.writeHead(status, Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, String(v)])));
  res.end(body);
}

/** Lambda's payload format 2.0: a string or object result means 200 with a JSON body. */
const structuredResultSchema = z.object({
  statusCode: z.number().int(),
  headers: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  body: z.string().optional(),
  isBase64Encoded: z.boolean().optional(),
  cookies: z.array(z.string()).optional(),
});

export function writeResult(res: ServerResponse, result: unknown): void {
  const structured = structuredResultSchema.safeParse(result);
  if (structured.success) {
    const { statusCode, headers, body = "", isBase64Encoded, cookies } = structured.data;
    if (cookies?.length) res.setHeader("set-cookie", cookies);
    send(res, statusCode, headers ?? {}, isBase64Encoded ? Buffer.from(body, "base64") : body);
    return;
  }
  send(res, 200, { "content-type": "application/json" }, typeof result === "string" ? result : JSON.stringify(result));
}

export interface Gateway {
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

export interface GatewayOptions {
  readonly port: number;
  readonly host?: string;
  readonly routes: readonly RouteDefinition[];
  readonly invoke: Invoke;
  readonly onError?: (error: unknown, routeKey: string) => void;
}

/** Turns HTTP requests into API Gateway HTTP API (payload 2.0) events for the wired functions. */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    const tooLarge = () => send(res, TOO_LARGE.status, { "content-type": "application/json" }, TOO_LARGE.body);
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      // A body this large makes an event larger still: refused without holding the rest of it.
      if (size >= LAMBDA_SYNC_PAYLOAD_LIMIT_BYTES && !refused) {
        refused = true;
        tooLarge();
        req.resume();
      } else if (!refused) chunks.push(chunk);
    });
    req.on("end", () => {
      if (refused) return;
      const path = new URL(req.url ?? "/", "http://local").pathname;
      const refuse = (error: NotFoundError | ValidationError): void => {
        const requestId = randomUUID();
        const body = failure(error.code, error.codeName, error.message, error instanceof ValidationError ? error.data : null, requestId);
        send(res, error.status, { "content-type": "application/json", "x-bkapi-request-id": requestId }, JSON.stringify(body));
      };
      let match: RouteMatch | undefined;
      try {
        match = matchRoute(options.routes, req.method ?? "GET", path);
      } catch (error) {
        if (error instanceof MalformedPathError) return refuse(error);
        throw error;
      }
      if (!match) return refuse(new NotFoundError(`API not found [method="${req.method}" path="${path}"]`));
      const event = toEvent(req, Buffer.concat(chunks), match, req.socket.remoteAddress ?? "127.0.0.1");
      // Lambda's limit is on the whole event: a body under it can still make an event over it.
      if (eventBytes(event) >= LAMBDA_SYNC_PAYLOAD_LIMIT_BYTES) {
        tooLarge();
        return;
      }
      options.invoke(match.route.function, event).then(
        (result) => writeResult(res, result),
        (error: unknown) => {
          options.onError?.(error, event.routeKey);
          // What API Gateway answers when the function itself fails or times out.
          send(res, 500, { "content-type": "application/json" }, JSON.stringify({ message: "Internal Server Error" }));
        },
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host ?? "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
