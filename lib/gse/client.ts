import type { Logger } from "@aws-lambda-powertools/logger";
import { setTimeout as sleepTimer } from "node:timers/promises";
import type { Dispatcher } from "undici";
import type { z } from "zod";
import type { GseConfig } from "../core/config.ts";
import { GseError, type GseErrorKind, type WriteOutcome } from "../core/errors.ts";
import { noMetrics, type MetricsRecorder } from "../core/metrics.ts";
import { inSubsegment } from "../core/tracing.ts";
import { Pool } from "../core/undici.ts";
import { OPERATIONS, type Door, type OperationName, type OperationRequest, type OperationRequestInput, type OperationResponseData } from "./operations.ts";
import { anyGatewayEnvelopeSchema } from "./schemas.ts";
import { gseHeaders, operationUrl } from "./transport.ts";

export type GseSettings = Pick<
  GseConfig,
  "baseUrl" | "apigwBaseUrl" | "flavour" | "appCode" | "appSecret" | "username" | "tenantId" | "timeoutMs" | "maxAttempts"
>;

export interface GseClientOptions {
  readonly gse: GseSettings;
  /** Defaults to one keep-alive pool per GSE origin, shared by every client in the process. */
  readonly dispatcher?: Dispatcher;
  /** Injected so tests control time instead of waiting. */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  readonly logger?: Logger;
  /** Calls, errors and latency per operation (GseCalls, GseErrors, GseLatency). */
  readonly metrics?: MetricsRecorder;
  /** The clock latency is measured with. */
  readonly now?: () => number;
}

export interface CallOptions {
  /** Force a door; by default the operation's only door, else the configured flavour. */
  readonly door?: Door;
  readonly timeoutMs?: number;
}

/** Backoff: full jitter over an exponential cap (AWS Architecture Blog, "Exponential Backoff And Jitter"). */
const BASE_DELAY_MS = 200;
const MAX_DELAY_MS = 5_000;
/** A Retry-After longer than this is not waited out inside one call; the error goes to the caller. */
const MAX_RETRY_AFTER_MS = 30_000;

const pools = new Map<string, Pool>();
function sharedPool(origin: string): Pool {
  let pool = pools.get(origin);
  if (!pool) {
    pool = new Pool(origin, { connections: 32, keepAliveTimeout: 30_000, pipelining: 1 });
    pools.set(origin, pool);
  }
  return pool;
}

/** Retry-After is seconds or an HTTP date. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return undefined;
  if (/^\d+(\.\d+)?$/.test(text.trim())) return Math.round(Number(text) * 1000);
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

const header = (headers: Record<string, string | string[] | undefined>, name: string): string | undefined => {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
};

const describeIssues = (error: z.ZodError): string =>
  error.issues
    .slice(0, 5)
    .map((i) => `${i.path.map(String).join(".") || "(data)"}: ${i.message}`)
    .join("; ");

/** undici's error codes for a request that never reached the server. */
const NOT_SENT_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "UND_ERR_CONNECT_TIMEOUT"]);
const TIMEOUT_CODES = new Set(["UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT", "ETIMEDOUT"]);

/**
 * The typed GSE client: validates what it sends and what it gets, unwraps either envelope, and
 * retries only what is safe: reads on 5xx, 429, timeouts, resets and malformed answers; writes
 * only when the request provably never reached GSE. Every other write failure says whether it
 * may have taken effect (`outcome`), so callers read back instead of repeating blindly.
 */
export class GseClient {
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly metrics: MetricsRecorder;
  private readonly now: () => number;

  constructor(private readonly options: GseClientOptions) {
    this.sleep = options.sleep ?? ((ms) => sleepTimer(ms));
    this.random = options.random ?? Math.random;
    this.metrics = options.metrics ?? noMetrics;
    this.now = options.now ?? Date.now;
  }

  doorFor(name: OperationName): Door {
    const op = OPERATIONS[name];
    if (op.gatewayPath === null) return "esb";
    if (op.esbPath === null) return "gateway";
    return this.options.gse.flavour === "esb" ? "esb" : "gateway";
  }

  async call<N extends OperationName>(
    name: N,
    body: OperationRequestInput<N> | OperationRequest<N>,
    options: CallOptions = {},
  ): Promise<OperationResponseData<N>> {
    const op = OPERATIONS[name];
    const request = op.request.safeParse(body);
    if (!request.success) {
      // Our own bug if it happens: refuse before anything reaches GSE.
      throw new GseError(name, "malformed", `refusing to send an invalid ${name} request: ${describeIssues(request.error)}`, {
        retryable: false,
        outcome: "not_sent",
      });
    }
    const operation = { operation: name };
    const started = this.now();
    this.metrics.add("GseCalls", 1, operation);
    try {
      return await inSubsegment(`GSE ${name}`, operation, () => this.withRetries(name, request.data, options));
    } catch (error) {
      this.metrics.add("GseErrors", 1, operation);
      throw error;
    } finally {
      this.metrics.add("GseLatency", this.now() - started, operation);
    }
  }

  /** One call: attempts, with backoff between them, as long as repeating it is safe. */
  private async withRetries<N extends OperationName>(name: N, body: unknown, options: CallOptions): Promise<OperationResponseData<N>> {
    const op = OPERATIONS[name];
    const maxAttempts = this.options.gse.maxAttempts;
    for (let attempt = 1; ; attempt++) {
      try {
        return (await this.attempt(name, body, options)) as OperationResponseData<N>;
      } catch (error) {
        if (!(error instanceof GseError)) throw error;
        const safe = op.kind === "read" ? error.retryable : error.outcome === "not_sent" && error.retryable;
        const retryAfter = error.details.retryAfterMs ?? 0;
        if (!safe || attempt >= maxAttempts || retryAfter > MAX_RETRY_AFTER_MS) throw error;
        const backoff = Math.floor(this.random() * Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** (attempt - 1)));
        const delay = Math.max(backoff, retryAfter);
        this.options.logger?.warn("GSE call failed, retrying", {
          operation: name,
          attempt,
          kind: error.kind,
          delay_ms: delay,
          gse_request_id: error.requestId,
        });
        await this.sleep(delay);
      }
    }
  }

  private fail(
    name: OperationName,
    kind: GseErrorKind,
    message: string,
    details: {
      retryable: boolean;
      outcome: WriteOutcome;
      gseCode?: number;
      requestId?: string;
      retryAfterMs?: number;
      httpStatus?: number;
      cause?: unknown;
    },
  ): never {
    throw new GseError(name, kind, message, details);
  }

  private async attempt(name: OperationName, body: unknown, options: CallOptions): Promise<unknown> {
    const op = OPERATIONS[name];
    const { gse } = this.options;
    const url = operationUrl(gse, op, options.door ?? this.doorFor(name));
    const timeoutMs = options.timeoutMs ?? gse.timeoutMs;
    const dispatcher = this.options.dispatcher ?? sharedPool(url.origin);

    let response: Dispatcher.ResponseData;
    let text: string;
    try {
      response = await dispatcher.request({
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: "POST",
        headers: { "content-type": "application/json", ...gseHeaders(gse) },
        body: JSON.stringify(body),
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      text = await response.body.text();
    } catch (error) {
      const code = (error as { code?: string }).code ?? "";
      if (NOT_SENT_CODES.has(code)) {
        this.fail(name, "unavailable", `GSE unreachable (${code})`, { retryable: true, outcome: "not_sent", cause: error });
      }
      if (TIMEOUT_CODES.has(code)) {
        this.fail(name, "timeout", `GSE did not answer ${name} within ${timeoutMs} ms`, { retryable: true, outcome: "unknown", cause: error });
      }
      this.fail(name, "unavailable", `GSE connection failed during ${name} (${code || (error as Error).name})`, {
        retryable: true,
        outcome: "unknown",
        cause: error,
      });
    }

    const requestId = header(response.headers, "x-bkapi-request-id");
    const status = response.statusCode;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      if (status === 429 || status >= 500) json = undefined;
      else
        this.fail(name, "malformed", `GSE answered ${name} with a body that is not JSON (HTTP ${status})`, {
          retryable: true,
          outcome: "unknown",
          httpStatus: status,
          ...(requestId ? { requestId } : {}),
          cause: error,
        });
    }
    const gatewayCode = typeof json === "object" && json !== null && "code" in json && typeof json.code === "number" ? json.code : undefined;
    const gatewayMessage = typeof json === "object" && json !== null && "message" in json && typeof json.message === "string" ? json.message : "";
    const ids = requestId ? { requestId } : {};

    if (status === 429) {
      const retryAfterMs = parseRetryAfter(response.headers["retry-after"]) ?? 1000;
      // The gateway refuses before GSE sees the request, so even a write was not applied.
      this.fail(name, "rate_limited", `GSE rate-limited ${name}: ${gatewayMessage || "too many requests"}`, {
        retryable: true,
        outcome: "not_sent",
        retryAfterMs,
        httpStatus: status,
        ...(gatewayCode !== undefined ? { gseCode: gatewayCode } : {}),
        ...ids,
      });
    }
    if (status >= 500) {
      this.fail(name, status === 504 ? "timeout" : "unavailable", `GSE answered ${name} with HTTP ${status}${gatewayMessage ? `: ${gatewayMessage}` : ""}`, {
        retryable: true,
        outcome: "unknown",
        httpStatus: status,
        ...(gatewayCode !== undefined ? { gseCode: gatewayCode } : {}),
        ...ids,
      });
    }
    if (status === 401 || status === 403 || (status === 400 && gatewayCode === 1640001)) {
      this.fail(name, "auth", `GSE refused our app credentials for ${name} (HTTP ${status}, code ${gatewayCode ?? "none"})`, {
        retryable: false,
        outcome: "rejected",
        httpStatus: status,
        ...(gatewayCode !== undefined ? { gseCode: gatewayCode } : {}),
        ...ids,
      });
    }
    if (status < 200 || status >= 300) {
      this.fail(name, "business", gatewayMessage || `GSE answered ${name} with HTTP ${status}`, {
        retryable: false,
        outcome: "rejected",
        httpStatus: status,
        gseCode: gatewayCode ?? status,
        ...ids,
      });
    }

    const envelope = anyGatewayEnvelopeSchema.safeParse(json);
    if (!envelope.success) {
      this.fail(name, "malformed", `GSE answered ${name} without its envelope: ${describeIssues(envelope.error)}`, {
        retryable: true,
        outcome: "unknown",
        httpStatus: status,
        ...ids,
      });
    }
    const { code, message, data, result } = envelope.data;
    const bodyRequestId = envelope.data.request_id ?? requestId;
    // Success is code 0; `result` is the fallback some GSE answers rely on (docs/gse-contract.md §10.2).
    if (code !== 0 || result === false) {
      this.fail(name, "business", message || `GSE error ${code}`, {
        retryable: false,
        outcome: "rejected",
        gseCode: code,
        httpStatus: status,
        ...(bodyRequestId ? { requestId: bodyRequestId } : {}),
      });
    }
    const parsed = op.responseData.safeParse(data);
    if (!parsed.success) {
      this.fail(name, "malformed", `GSE answered ${name} with data of the wrong shape: ${describeIssues(parsed.error)}`, {
        retryable: true,
        outcome: "unknown",
        httpStatus: status,
        ...(bodyRequestId ? { requestId: bodyRequestId } : {}),
      });
    }
    return parsed.data;
  }
}
