import { cancelCommand } from "../../lib/commands/api.ts";
import { commandDeps } from "../../lib/commands/deps.ts";
import { documentClient } from "../../lib/core/aws.ts";
import { sqsClient } from "../../lib/core/queue.ts";
import { gseFunction } from "../../lib/gse/context.ts";
import { callersOf } from "../../lib/core/config.ts";
import { cancelRequestSchema, messageIdParamSchema } from "../../lib/commands/schemas.ts";
import { parametersOf } from "../../lib/config-versions/api.ts";
import { authorOf } from "../../lib/http/author.ts";
import { httpHandler } from "../../lib/http/handler.ts";
import * as z from "zod";

const context = await gseFunction("command_cancel");
const { config, logger } = context;
const deps = commandDeps(context, { dynamo: documentClient(), sqs: sqsClient() });

/** POST /v1/commands/{message_id}/cancel: batches not sent yet never are; retries stop. */
export const handler = httpHandler(
  { name: "command_cancel", logger, callers: callersOf(config), body: cancelRequestSchema },
  async ({ event, body, caller }) => {
    const { path } = parametersOf(event, messageIdParamSchema, z.object({}));
    const who = authorOf({ caller });
    return { data: await cancelCommand(deps, path.message_id, body.reason ? `cancelled by ${who}: ${body.reason}` : `cancelled by ${who}`) };
  },
);
