/** Tiny HTTP client for the simulator tests: real sockets through undici. */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { request } from "undici";
import { startGseSimulator, type GseSimulator, type GseSimulatorOptions } from "../../../local/gse-simulator/index.ts";

export const APP = { bk_app_code: "bk_monitorv3", bk_app_secret: "test-secret-1" } as const;

export function startTestSimulator(options: GseSimulatorOptions = {}): Promise<GseSimulator> {
  return startGseSimulator({ credentials: [APP], controlToken: "control-token-for-tests", churnRate: 0, ...options });
}

export interface HttpAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
  /** Parsed JSON body; undefined when the body is not JSON. */
  readonly json: unknown;
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export interface CallOptions {
  /** "header" (default) sends X-Bkapi-Authorization with {@link APP}; "none" sends nothing. */
  readonly auth?: "header" | "none";
  readonly headers?: Readonly<Record<string, string>>;
  readonly method?: "POST" | "GET";
  /** Raw body text instead of JSON.stringify(body). */
  readonly rawBody?: string;
  readonly signal?: AbortSignal;
}

/** POSTs `body` as JSON to `path` on the simulator. */
export async function call(sim: GseSimulator, path: string, body: unknown, options: CallOptions = {}): Promise<HttpAnswer> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if ((options.auth ?? "header") === "header") headers["x-bkapi-authorization"] = JSON.stringify({ ...APP, bk_username: "admin" });
  Object.assign(headers, options.headers);
  const method = options.method ?? "POST";
  const response = await request(`${sim.url}${path}`, {
    method,
    headers,
    ...(method === "POST" ? { body: options.rawBody ?? JSON.stringify(body) } : {}),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  const text = await response.body.text();
  return { status: response.statusCode, headers: response.headers, text, json: tryJson(text) };
}

/** Calls the `/_sim/*` control endpoint with the simulator's bearer token (or `token`). */
export async function control(
  sim: GseSimulator,
  method: "GET" | "POST" | "DELETE",
  path: string,
  body?: unknown,
  token: string | null = sim.controlToken,
): Promise<HttpAnswer> {
  const response = await request(`${sim.url}${path}`, {
    method,
    headers: {
      "content-type": "application/json",
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.body.text();
  return { status: response.statusCode, headers: response.headers, text, json: tryJson(text) };
}

/** The standard success/error envelope the simulator answers with. */
export interface Envelope {
  result: boolean;
  code: number;
  message: string;
  data: unknown;
  request_id: string;
}

export function isEnvelope(value: unknown): value is Envelope {
  if (typeof value !== "object" || value === null) return false;
  const keys = Object.keys(value).sort();
  return JSON.stringify(keys) === JSON.stringify(["code", "data", "message", "request_id", "result"]);
}

/** Asserts the envelope shape and returns it typed. */
export function envelopeOf(answer: HttpAnswer): Envelope {
  if (!isEnvelope(answer.json)) throw new Error(`not an envelope: ${answer.text.slice(0, 300)}`);
  return answer.json;
}

/** Polls `check` until it returns true or `timeoutMs` passes. */
export async function waitFor(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met before the deadline");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export interface Receiver {
  readonly url: string;
  readonly bodies: unknown[];
  /** HTTP status the receiver answers with (default 200). */
  status: number;
  close(): Promise<void>;
}

/** A local HTTP server that records every JSON body POSTed to it. */
export async function startReceiver(): Promise<Receiver> {
  const bodies: unknown[] = [];
  const receiver: { status: number } = { status: 200 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      bodies.push(tryJson(Buffer.concat(chunks).toString("utf8")));
      res.writeHead(receiver.status, { "content-type": "application/json" });
      res.end("true");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(receiver, {
    url: `http://127.0.0.1:${port}/api/v4/bk_gse_slot/`,
    bodies,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
