import * as z from "zod";
import { setCommandPaused } from "../../lib/commands/api.ts";
import { commandViewDeps } from "../../lib/commands/view-deps.ts";
import { commandActionSchema, messageIdParamSchema } from "../../lib/commands/schemas.ts";
import { parametersOf } from "../../lib/config-versions/api.ts";
import { documentClient } from "../../lib/core/aws.ts";
import { callersOf } from "../../lib/core/config.ts";
import { sqsClient } from "../../lib/core/queue.ts";
import { functionContext } from "../../lib/core/function.ts";
import { httpHandler } from "../../lib/http/handler.ts";

const context = await functionContext("command_resume");
const { config, logger } = context;
// Reads and marks commands, never sends: no GSE client, so no undici in its bundle.
const deps = commandViewDeps(context, { dynamo: documentClient(), sqs: sqsClient() });

/** POST /v1/commands/{message_id}/resume: claims go on at once. */
export const handler = httpHandler({ name: "command_resume", logger, callers: callersOf(config), body: commandActionSchema }, async ({ event }) => {
  const { path } = parametersOf(event, messageIdParamSchema, z.object({}));
  return { data: await setCommandPaused(deps, path.message_id, false) };
});
