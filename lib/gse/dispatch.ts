import type { Config } from "../core/config.ts";
import { ForbiddenError } from "../core/errors.ts";
import { constantTimeEqual } from "../http/auth.ts";

/** The one message slot this deployment is registered for (config `gse.slotId` / `gse.slotToken`). */
export interface MessageSlot {
  readonly slotId: Config["gse"]["slotId"];
  readonly slotToken: string;
}

/**
 * A dispatch_message caller that names a slot must name ours (bk-monitor injects both fields;
 * other callers leave them out, and GSE always gets the configured ones). Both fields are checked
 * whatever the first one says, the token in constant time; the error never repeats what was sent.
 */
export function assertCallerSlot(request: { readonly slot_id?: number | undefined; readonly token?: string | undefined }, slot: MessageSlot): void {
  const slotIdOk = request.slot_id === undefined || request.slot_id === slot.slotId;
  const tokenOk = request.token === undefined || constantTimeEqual(request.token, slot.slotToken);
  if (!slotIdOk || !tokenOk) {
    throw new ForbiddenError("slot_id or token does not match the message slot this service is registered for");
  }
}
