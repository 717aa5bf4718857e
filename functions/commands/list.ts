import { listCommands } from "../../lib/commands/api.ts";
import { commandViewDeps } from "../../lib/commands/view-deps.ts";
import { documentClient } from "../../lib/core/aws.ts";
import { sqsClient } from "../../lib/core/queue.ts";
import { functionContext } from "../../lib/core/function.ts";
import { callersOf } from "../../lib/core/config.ts";
import { commandListQuerySchema } from "../../lib/commands/schemas.ts";
import { httpHandler, validate } from "../../lib/http/handler.ts";

const context = await functionContext("command_list");
const { config, logger } = context;
// Reads and marks commands, never sends: no GSE client, so no undici in its bundle.
const deps = commandViewDeps(context, { dynamo: documentClient(), sqs: sqsClient() });

/** GET /v1/commands: newest first, `?status=RUNNING&limit=&cursor=`. */
export const handler = httpHandler({ name: "command_list", logger, callers: callersOf(config) }, async ({ event }) => ({
  data: await listCommands(deps.store, validate(commandListQuerySchema, event.queryStringParameters ?? {})),
}));
