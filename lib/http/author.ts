import type { AuthenticatedCaller } from "./auth.ts";

/**
 * Who a change made through a request is attributed to: the user the caller names (bk_username),
 * else `operatorName`, else the calling app.
 *
 * Only GSE's own config operations pass `operatorName`: their body carries
 * `operation.operator_name`, the person the calling system (bk-monitor) acts for, and a caller
 * that sends no bk_username still means that person, as GSE itself records it. Our own routes
 * (commands, APM, roll-back-to-N) have no such field, so the app is the only fallback there.
 */
export function authorOf(ctx: { readonly caller: AuthenticatedCaller }, operatorName?: string): string {
  return ctx.caller.username || operatorName || ctx.caller.appCode;
}
