import { callersOf, slotTokenOf } from "../../lib/config.ts";
import { dispatchMessage, dispatchMessageCallerSchema } from "../../lib/gse/dispatch.ts";
import { gseFunction } from "../../lib/gse/handler.ts";
import { httpHandler } from "../../lib/http/handler.ts";

const context = await gseFunction("dispatch_message");
const deps = { gse: context.gse, slot: { slotId: context.config.gse.slotId, slotToken: slotTokenOf(context.config) }, logger: context.logger };

// Not gseHandler: this route accepts GSE's body with slot_id/token optional (lib/gse/dispatch.ts).
export const handler = httpHandler(
  { name: "dispatch_message", logger: context.logger, callers: callersOf(context.config), body: dispatchMessageCallerSchema },
  async ({ body }) => ({ data: await dispatchMessage(deps, body) }),
);
