import { getCommandPage } from "../../lib/commands/api.ts";
import { commandViewDeps } from "../../lib/commands/view-deps.ts";
import { documentClient } from "../../lib/core/aws.ts";
import { sqsClient } from "../../lib/core/queue.ts";
import { functionContext } from "../../lib/core/function.ts";
import { callersOf } from "../../lib/core/config.ts";
import { commandQuerySchema, messageIdParamSchema } from "../../lib/commands/schemas.ts";
import { parametersOf } from "../../lib/config-versions/api.ts";
import { httpHandler } from "../../lib/http/handler.ts";

const context = await functionContext("command_get");
const { config, logger } = context;
// Reads and marks commands, never sends: no GSE client, so no undici in its bundle.
const deps = commandViewDeps(context, { dynamo: documentClient(), sqs: sqsClient() });

/** GET /v1/commands/{message_id}: the command, its counts, a page of its agents (`?outcome=&limit=&cursor=`). */
export const handler = httpHandler({ name: "command_get", logger, callers: callersOf(config) }, async ({ event }) => {
  const { path, query } = parametersOf(event, messageIdParamSchema, commandQuerySchema);
  return { data: await getCommandPage(deps, path.message_id, query) };
});
