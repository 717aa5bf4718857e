/** Small HTTP helpers for the simulator's node:http server. */
import type { IncomingMessage, ServerResponse } from "node:http";
import { GATEWAY_ERROR, type GatewayErrorBody, type GatewayErrorName } from "../../lib/gse/schemas.ts";

export type BodyResult = { readonly kind: "ok"; readonly text: string } | { readonly kind: "too_large" };

/** Reads the whole request body, giving up (and discarding the rest) past `limitBytes`. */
export function readBody(req: IncomingMessage, limitBytes: number): Promise<BodyResult> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on("data", (chunk: Buffer) => {
      if (tooLarge) return;
      size += chunk.length;
      if (size > limitBytes) {
        tooLarge = true;
        chunks.length = 0;
        return;
      }
      chunks.push(chunk);
    });
    let ended = false;
    req.on("end", () => {
      ended = true;
      resolve(tooLarge ? { kind: "too_large" } : { kind: "ok", text: Buffer.concat(chunks).toString("utf8") });
    });
    req.on("error", reject);
    req.on("close", () => {
      if (!ended) reject(new Error("request closed before its body was complete"));
    });
  });
}

export type JsonResult = { readonly ok: true; readonly value: unknown } | { readonly ok: false };

export function parseJson(text: string): JsonResult {
  try {
    const value: unknown = JSON.parse(text);
    return { ok: true, value };
  } catch {
    return { ok: false };
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): void {
  sendRaw(res, status, JSON.stringify(body), headers);
}

export function sendRaw(res: ServerResponse, status: number, text: string, headers: Readonly<Record<string, string>> = {}): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, {
    ...headers,
    "content-type": "application/json; charset=utf-8",
    "content-length": String(Buffer.byteLength(text)),
  });
  res.end(text);
}

export function gatewayErrorBody(name: GatewayErrorName, message: string): GatewayErrorBody {
  const entry = GATEWAY_ERROR[name];
  return { code_name: entry.codeName, code: entry.code, message, data: null, result: false };
}

/** Answers with the API gateway's own error body and the HTTP status that goes with the code. */
export function sendGatewayError(
  res: ServerResponse,
  name: GatewayErrorName,
  message: string,
  options: { readonly status?: number; readonly headers?: Readonly<Record<string, string>> } = {},
): void {
  sendJson(res, options.status ?? GATEWAY_ERROR[name].status, gatewayErrorBody(name, message), options.headers);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
