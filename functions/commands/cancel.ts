import { cancelCommand } from "../../lib/commands/api.ts";
import { commandFunction } from "../../lib/commands/function.ts";
import { callersOf } from "../../lib/core/config.ts";
import { cancelRequestSchema, messageIdParamSchema } from "../../lib/commands/schemas.ts";
import { parametersOf } from "../../lib/config-versions/api.ts";
import { httpHandler } from "../../lib/http/handler.ts";
import { z } from "zod";

const { config, deps, logger } = await commandFunction("command_cancel");

/** POST /v1/commands/{message_id}/cancel: batches not sent yet never are; retries stop. */
export const handler = httpHandler({ name: "command_cancel", logger, callers: callersOf(config), body: cancelRequestSchema }, async ({ event, body, caller }) => {
  const { path } = parametersOf(event, messageIdParamSchema, z.object({}));
  const who = caller.username || caller.appCode;
  return { data: await cancelCommand(deps, path.message_id, body.reason ? `cancelled by ${who}: ${body.reason}` : `cancelled by ${who}`) };
});
