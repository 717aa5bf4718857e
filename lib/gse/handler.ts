import type { Logger } from "@aws-lambda-powertools/logger";
import { callersOf, getConfig, gseOf, type Config } from "../core/config.ts";
import { FUNCTIONS, type FunctionKey } from "../wiring.ts";
import { httpHandler, type HttpReply, type HttpRequestContext } from "../http/handler.ts";
import { createLogger } from "../core/logger.ts";
import { GseClient } from "./client.ts";
import { OPERATIONS, type OperationName, type OperationRequest } from "./operations.ts";

export interface GseFunctionContext {
  readonly config: Config;
  readonly logger: Logger;
  readonly gse: GseClient;
}

/** What every GSE-operation function builds once at cold start and keeps for warm invocations. */
export async function gseFunction(name: OperationName & FunctionKey): Promise<GseFunctionContext> {
  const config = await getConfig(FUNCTIONS[name].links);
  const logger = createLogger(name, config.logLevel);
  return { config, logger, gse: new GseClient({ gse: gseOf(config), logger }) };
}

/**
 * An HTTP handler for one GSE operation, on any of its paths: the body is validated with the
 * operation's own request schema (extra keys real clients add, such as bk_username, are
 * ignored), and the answer is GSE's `data` in the envelope. A GseError thrown by `run` is passed
 * through as GSE answered it: HTTP 200 with GSE's code and message, or the gateway's 429/502/504.
 */
export function gseHandler<N extends OperationName>(
  name: N,
  context: GseFunctionContext,
  run: (ctx: HttpRequestContext<OperationRequest<N>>) => Promise<unknown>,
) {
  return httpHandler(
    { name, logger: context.logger, callers: callersOf(context.config), body: OPERATIONS[name].request },
    async (ctx): Promise<HttpReply<unknown>> => ({ data: await run(ctx as HttpRequestContext<OperationRequest<N>>) }),
  );
}
