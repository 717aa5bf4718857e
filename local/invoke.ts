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
export function createInvoker(root: string): Invoke {
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
    const seconds = FUNCTIONS[fn].timeoutSeconds;
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
