import type { Context } from "aws-lambda";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { FUNCTIONS, type FunctionKey } from "../lib/wiring.ts";
import { LOCAL_ACCOUNT, LOCAL_REGION } from "./aws.ts";

type Handler = (event: unknown, context: Context) => Promise<unknown>;

export class FunctionTimeoutError extends Error {
  constructor(fn: string, seconds: number) {
    super(`Task timed out after ${seconds} seconds (${fn})`);
    this.name = "FunctionTimeoutError";
  }
}

export type Invoke = (fn: FunctionKey, event: unknown) => Promise<unknown>;

/**
 * Test-only: shorter function timeouts than lib/wiring.ts's, e.g. `update_route=3,dispatch_message=3`,
 * so a test can make a function run out of time against a slow GSE simulator.
 */
export const FUNCTION_TIMEOUTS_ENV = "GSE_CONTROL_FUNCTION_TIMEOUTS";

/** Parses FUNCTION_TIMEOUTS_ENV; a name that is not a function or a bad number fails the start. */
export function functionTimeouts(text: string | undefined): Partial<Record<FunctionKey, number>> {
  const timeouts: Partial<Record<FunctionKey, number>> = {};
  for (const entry of (text ?? "").split(",").filter((e) => e.trim() !== "")) {
    const [name = "", value = ""] = entry.split("=").map((part) => part.trim());
    const seconds = Number(value);
    if (!(name in FUNCTIONS)) throw new Error(`${FUNCTION_TIMEOUTS_ENV}: "${name}" is not a function of lib/wiring.ts`);
    if (!Number.isFinite(seconds) || seconds <= 0)
      throw new Error(`${FUNCTION_TIMEOUTS_ENV}: ${name}'s timeout "${value}" is not a positive number of seconds`);
    timeouts[name as FunctionKey] = seconds;
  }
  return timeouts;
}

function lambdaContext(fn: FunctionKey, deadline: number): Context {
  const definition = FUNCTIONS[fn];
  const functionName = `gse-control-local-${fn}`;
  const fail = (): never => {
    throw new Error("callback-style completion is not supported; return a promise");
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${functionName}`,
    memoryLimitInMB: String(definition.memoryMb),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: "local",
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: fail,
    fail,
    succeed: fail,
  };
}

/**
 * Loads each function's module once (a warm container) and invokes its `handler` as Lambda
 * would: with a context, and failing after the function's timeout.
 */
export function createInvoker(root: string, timeouts: Partial<Record<FunctionKey, number>> = functionTimeouts(process.env[FUNCTION_TIMEOUTS_ENV])): Invoke {
  const modules = new Map<FunctionKey, Promise<Handler>>();
  const load = (fn: FunctionKey): Promise<Handler> => {
    let loaded = modules.get(fn);
    if (!loaded) {
      loaded = import(pathToFileURL(join(root, FUNCTIONS[fn].file)).href).then((mod: { handler?: unknown }) => {
        if (typeof mod.handler !== "function") throw new Error(`${FUNCTIONS[fn].file} does not export a handler`);
        return mod.handler as Handler;
      });
      // A module that failed its cold start is retried on the next call, as Lambda does with a new container.
      loaded.catch(() => modules.delete(fn));
      modules.set(fn, loaded);
    }
    return loaded;
  };
  return async (fn, event) => {
    const handler = await load(fn);
    const seconds = timeouts[fn] ?? FUNCTIONS[fn].timeoutSeconds;
    const deadline = Date.now() + seconds * 1000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new FunctionTimeoutError(fn, seconds)), seconds * 1000);
    });
    try {
      return await Promise.race([handler(event, lambdaContext(fn, deadline)), timeout]);
    } finally {
      clearTimeout(timer);
    }
  };
}
