import { gseOf } from "../core/config.ts";
import { functionContext, type FunctionContext } from "../core/function.ts";
import type { FunctionKey } from "../wiring.ts";
import { GseClient } from "./client.ts";

/** A function's context with its GSE client. Apart from lib/core/function.ts: only functions that link the GSE secret import this. */
export interface GseFunctionContext extends FunctionContext {
  readonly gse: GseClient;
}

/** The GSE client of a function, built from its config and logger. */
export const withGse = (context: FunctionContext): GseFunctionContext => ({
  ...context,
  gse: new GseClient({ gse: gseOf(context.config), logger: context.logger, metrics: context.metrics }),
});

/** What a function that calls GSE builds once at cold start. */
export async function gseFunction(name: FunctionKey): Promise<GseFunctionContext> {
  return withGse(await functionContext(name));
}
