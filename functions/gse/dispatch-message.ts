import { dispatchCommand } from "../../lib/commands/api.ts";
import { commandFunction } from "../../lib/commands/function.ts";
import { callersOf } from "../../lib/core/config.ts";
import { dispatchCommandSchema } from "../../lib/commands/schemas.ts";
import { httpHandler } from "../../lib/http/handler.ts";

const { config, deps, logger } = await commandFunction("dispatch_message");

/** A target list of any size: the body may be larger than other routes' (lib/commands/schemas.ts). */
export const DISPATCH_MAX_BODY_BYTES = 8 * 1024 * 1024;

// Not gseHandler: the body is GSE's with slot_id/token optional and our rollout fields (lib/commands/schemas.ts).
export const handler = httpHandler(
  { name: "dispatch_message", logger, callers: callersOf(config), body: dispatchCommandSchema, maxBodyBytes: DISPATCH_MAX_BODY_BYTES },
  async ({ body, caller }) => ({ data: await dispatchCommand(deps, body, caller.username || caller.appCode) }),
);
