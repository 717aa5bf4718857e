import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SNSClient } from "@aws-sdk/client-sns";
import { SQSClient } from "@aws-sdk/client-sqs";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { request } from "undici";
import { inject } from "vitest";
import { localClientConfig } from "../../local/aws.ts";
import type { StackInfo } from "../../local/stack.ts";
import type { GseClient } from "../../lib/gse/client.ts";

/** The stack the global setup started, plus clients pointed at its parts. */
export function useStack() {
  const info: StackInfo = inject("stack");
  const caller = info.credentials.caller;
  return {
    info,
    dynamo: new DynamoDBClient(localClientConfig(info.dynamodbEndpoint)),
    sns: new SNSClient(localClientConfig(info.sqsEndpoint)),
    sqs: new SQSClient(localClientConfig(new URL(info.queues.automation).origin)),
    authHeader: { "x-bkapi-authorization": JSON.stringify({ bk_app_code: caller.bk_app_code, bk_app_secret: caller.bk_app_secret }) },
  };
}

export interface ApiResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Record<string, unknown>;
  readonly text: string;
}

/** A real HTTP call through the local API gateway. */
export async function callApi(
  baseUrl: string,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: unknown } = {},
): Promise<ApiResponse> {
  const response = await request(`${baseUrl}${path}`, {
    method: (options.method ?? "GET") as "GET",
    headers: { "content-type": "application/json", ...options.headers },
    ...(options.body !== undefined ? { body: typeof options.body === "string" ? options.body : JSON.stringify(options.body) } : {}),
  });
  const text = await response.body.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // Not every answer is JSON (e.g. a gateway-level failure); the text is kept for the assertion.
  }
  return { status: response.statusCode, headers: response.headers, body, text };
}

export type SimFault = Record<string, unknown> & { kind: string };

/**
 * Adds faults to the stack's GSE simulator for the duration of `run`, and removes exactly those
 * afterwards. Scope each fault with `match` (text in the request body, e.g. the test's own agent
 * id) so tests running at the same time are not hit.
 */
export async function withFaults<T>(info: StackInfo, faults: readonly SimFault[], run: () => Promise<T>): Promise<T> {
  const headers = { authorization: `Bearer ${info.credentials.simulatorControlToken}`, "content-type": "application/json" };
  const added = await request(`${info.gseUrl}/_sim/faults/add`, { method: "POST", headers, body: JSON.stringify({ faults }) });
  const body = (await added.body.json()) as { faults?: { id: number }[] };
  if (added.statusCode !== 200 || !body.faults) throw new Error(`simulator refused the faults: ${JSON.stringify(body)}`);
  try {
    return await run();
  } finally {
    const ids = body.faults.map((f) => f.id);
    await (await request(`${info.gseUrl}/_sim/faults/remove`, { method: "POST", headers, body: JSON.stringify({ ids }) })).body.dump();
  }
}

/** The simulator's counters (calls and applied writes per operation, …). */
export async function simulatorCounters(info: StackInfo): Promise<{ calls: Record<string, number>; applied: Record<string, number> }> {
  const res = await request(`${info.gseUrl}/_sim/counters`, { headers: { authorization: `Bearer ${info.credentials.simulatorControlToken}` } });
  return (await res.body.json()) as { calls: Record<string, number>; applied: Record<string, number> };
}

/** Sends a control call to the stack's GSE simulator (`/_sim/<path>`). */
export async function simulatorControl(info: StackInfo, method: "GET" | "POST", path: string, body?: unknown): Promise<unknown> {
  const res = await request(`${info.gseUrl}/_sim/${path}`, {
    method,
    headers: { authorization: `Bearer ${info.credentials.simulatorControlToken}`, "content-type": "application/json" },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const json = (await res.body.json()) as unknown;
  if (res.statusCode !== 200) throw new Error(`simulator ${method} ${path} answered ${res.statusCode}: ${JSON.stringify(json)}`);
  return json;
}

/**
 * Runs `fn` while holding a lock named `name` shared by every test file of this run (a directory
 * under the stack's data dir; mkdir is atomic). For the few checks that read a simulator counter
 * another file's tests could move at the same time.
 */
export async function withStackLock<T>(info: StackInfo, name: string, fn: () => Promise<T>): Promise<T> {
  const locks = join(info.dataDir, "locks");
  const dir = join(locks, name);
  mkdirSync(locks, { recursive: true });
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      mkdirSync(dir);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST" || Date.now() > deadline) throw error;
      await sleep(20);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const taken = new Set<string>();

/**
 * Where the test files of one run reserve what they share through the stack (channel ids, agent
 * address blocks): one directory per key, made atomically, in the suite stack's data directory.
 * Random picks alone met often enough (a few hundred channel ids a run in a range of 100,000) for
 * one file to find "already exists" left by another.
 */
function reservationsDir(namespace: string): string | undefined {
  try {
    const info: StackInfo | undefined = inject("stack");
    if (!info) return undefined;
    const dir = join(info.dataDir, namespace);
    mkdirSync(dir, { recursive: true });
    return dir;
  } catch {
    return undefined;
  }
}

/** Whether `key` is now this file's: in this file, and across the run's files when a stack is shared. */
export function reserveForRun(namespace: string, key: string): boolean {
  const local = `${namespace}/${key}`;
  if (taken.has(local)) return false;
  const dir = reservationsDir(namespace);
  if (dir !== undefined) {
    try {
      mkdirSync(join(dir, key));
    } catch {
      return false;
    }
  }
  taken.add(local);
  return true;
}

/**
 * A channel id in GSE's built-in range 1100000–1199999 (docs/gse-contract.md §7.1) that no other test of
 * this run has had.
 */
export function uniqueBuiltInChannelId(): number {
  for (;;) {
    const id = 1_100_000 + Math.floor(Math.random() * 100_000);
    if (reserveForRun("test-channel-ids", String(id))) return id;
  }
}

/**
 * An IPv4 address in `block` (e.g. "10.251") that no other test of this run has had: files that
 * add agents to the one simulator in the same /16 used to draw the same address now and then, and
 * the second file's beforeAll then failed on "agent … already exists".
 */
export function uniqueSimIp(block: string): string {
  for (;;) {
    const ip = `${block}.${1 + Math.floor(Math.random() * 254)}.${1 + Math.floor(Math.random() * 254)}`;
    if (reserveForRun("test-ips", ip)) return ip;
  }
}

/** Polls until `check` returns a value (not undefined), or fails after the deadline. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await sleep(100);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ""}`);
}

/** The lines of one part's log under the stack's logs directory. */
export function logLines(info: StackInfo, part: "runtime" | "alerts" | "dynamodb" | "gse-simulator"): string[] {
  const path = join(info.logsDir, `${part}.log`);
  return existsSync(path) ? readFileSync(path, "utf8").split("\n").filter(Boolean) : [];
}

/** How a test's own GSE client reaches the stack's simulator: our credentials, short timeouts. */
export function testGseConfig(
  info: StackInfo,
  options: { username?: string; timeoutMs?: number; maxAttempts?: number } = {},
): ConstructorParameters<typeof GseClient>[0]["gse"] {
  return {
    baseUrl: info.gseUrl,
    flavour: "v2",
    appCode: info.credentials.gse.appCode,
    appSecret: info.credentials.gse.appSecret,
    username: options.username ?? "admin",
    timeoutMs: options.timeoutMs ?? 2000,
    maxAttempts: options.maxAttempts ?? 3,
  };
}

/**
 * Registers the agents `build` draws in the stack's simulator. Every test file shares the one
 * simulator and draws its agents' ips at random; the simulator refuses a whole batch holding an ip
 * it already has (409), so a batch that collides is drawn again rather than failing the test.
 */
export async function addSimulatorAgents<A extends { ip: string }>(info: StackInfo, build: () => A[], attempts = 8): Promise<A[]> {
  for (let attempt = 1; ; attempt++) {
    const agents = build();
    try {
      await simulatorControl(info, "POST", "agents", { agents });
      return agents;
    } catch (error) {
      if (attempt >= attempts || !/answered 409: .*already exists/.test((error as Error).message)) throw error;
    }
  }
}
