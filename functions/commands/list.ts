import { listCommands } from "../../lib/commands/api.ts";
import { commandFunction } from "../../lib/commands/function.ts";
import { callersOf } from "../../lib/core/config.ts";
import { commandListQuerySchema } from "../../lib/commands/schemas.ts";
import { httpHandler, validate } from "../../lib/http/handler.ts";

const { config, deps, logger } = await commandFunction("command_list");

/** GET /v1/commands: newest first, `?status=RUNNING&limit=&cursor=`. */
export const handler = httpHandler({ name: "command_list", logger, callers: callersOf(config) }, async ({ event }) => ({
  data: await listCommands(deps.store, validate(commandListQuerySchema, event.queryStringParameters ?? {})),
}));
