import { listCommands } from "../../lib/commands/api.ts";
import { commandReader } from "../../lib/commands/reader.ts";
import { documentClient } from "../../lib/core/aws.ts";
import { functionContext } from "../../lib/core/function.ts";
import { callersOf } from "../../lib/core/config.ts";
import { commandListQuerySchema } from "../../lib/commands/schemas.ts";
import { httpHandler, validate } from "../../lib/http/handler.ts";

const context = await functionContext("command_list");
const { config, logger } = context;
// Only reads the commands table: no GSE client (no undici), no queue client in its bundle.
const store = commandReader(context, documentClient());

/** GET /v1/commands: newest first, `?status=RUNNING&limit=&cursor=`. */
export const handler = httpHandler({ name: "command_list", logger, callers: callersOf(config) }, async ({ event }) => ({
  data: await listCommands(store, validate(commandListQuerySchema, event.queryStringParameters ?? {})),
}));
