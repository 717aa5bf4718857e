import { callersOf } from "../core/config.ts";
import type { FunctionContext } from "../core/function.ts";
import { httpHandler, type HttpReply, type HttpRequestContext } from "../http/handler.ts";
import { OPERATIONS, type OperationName, type OperationRequest } from "./operations.ts";

/**
 * An HTTP handler for one GSE operation, on any of its paths: the body is validated with the
 * operation's own request schema (extra keys real clients add, such as bk_username, are
 * ignored), and the answer is GSE's `data` in the envelope. A GseError thrown by `run` is passed
 * through as GSE answered it: HTTP 200 with GSE's code and message, or the gateway's 429/502/504.
 */
export function gseHandler<N extends OperationName>(
  name: N,
  context: FunctionContext,
  run: (ctx: HttpRequestContext<OperationRequest<N>>) => Promise<unknown>,
) {
  return httpHandler(
    { name, logger: context.logger, callers: callersOf(context.config), body: OPERATIONS[name].request },
    async (ctx): Promise<HttpReply<unknown>> => ({ data: await run(ctx as HttpRequestContext<OperationRequest<N>>) }),
  );
}
