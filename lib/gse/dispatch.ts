import type { Logger } from "@aws-lambda-powertools/logger";
import type { z } from "zod";
import type { Config } from "../config.ts";
import { ForbiddenError } from "../errors.ts";
import { constantTimeEqual } from "../http/auth.ts";
import type { GseClient } from "./client.ts";
import { dispatchMessageRequestSchema, type DispatchMessageData } from "./schemas.ts";

/**
 * What our dispatch_message route accepts: GSE's own body (gse-api.md §5.2) with `slot_id` and
 * `token` optional. bk-monitor injects both; other callers leave them out. Derived from the GSE
 * schema, so the two can never drift apart.
 */
export const dispatchMessageCallerSchema = dispatchMessageRequestSchema.partial({ slot_id: true, token: true });
export type DispatchMessageCallerRequest = z.infer<typeof dispatchMessageCallerSchema>;

/** The one message slot this deployment is registered for (config `gse.slotId` / `gse.slotToken`). */
export interface MessageSlot {
  readonly slotId: Config["gse"]["slotId"];
  readonly slotToken: string;
}

/**
 * A caller that names a slot must name ours. Both fields are checked whatever the first one
 * says, the token in constant time; the error never repeats what was sent.
 */
export function assertCallerSlot(request: Pick<DispatchMessageCallerRequest, "slot_id" | "token">, slot: MessageSlot): void {
  const slotIdOk = request.slot_id === undefined || request.slot_id === slot.slotId;
  const tokenOk = request.token === undefined || constantTimeEqual(request.token, slot.slotToken);
  if (!slotIdOk || !tokenOk) {
    throw new ForbiddenError("slot_id or token does not match the message slot this service is registered for");
  }
}

export interface DispatchDeps {
  readonly gse: GseClient;
  readonly slot: MessageSlot;
  readonly logger?: Logger;
}

/**
 * Sends a message to plugins through the configured slot. The caller's slot fields (when given)
 * only have to match; GSE always gets the configured ones. The answer is GSE's `data`: only the
 * agents the message could not be delivered to are listed (§5.2). The message_id is the
 * correlation key of every log line; the token is never logged.
 */
export async function dispatchMessage(deps: DispatchDeps, request: DispatchMessageCallerRequest): Promise<DispatchMessageData> {
  assertCallerSlot(request, deps.slot);
  const { slot_id: _slotId, token: _token, ...message } = request;
  const data = await deps.gse.call("dispatch_message", { ...message, slot_id: deps.slot.slotId, token: deps.slot.slotToken });
  deps.logger?.info("message dispatched", {
    message_id: message.message_id,
    agents: message.agent_id_list.length,
    undelivered: data.results.length,
    ...(data.results.length > 0 ? { undelivered_agents: data.results.slice(0, 20).map((r) => r.bk_agent_id) } : {}),
  });
  return data;
}
