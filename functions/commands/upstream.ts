import { listUpstream } from "../../lib/commands/api.ts";
import { commandDeps } from "../../lib/commands/deps.ts";
import { documentClient } from "../../lib/core/aws.ts";
import { sqsClient } from "../../lib/core/queue.ts";
import { gseFunction } from "../../lib/gse/context.ts";
import { callersOf } from "../../lib/core/config.ts";
import { upstreamQuerySchema } from "../../lib/commands/schemas.ts";
import { httpHandler, validate } from "../../lib/http/handler.ts";

const context = await gseFunction("upstream_messages");
const { config, logger } = context;
const deps = commandDeps(context, { dynamo: documentClient(), sqs: sqsClient() });

/** GET /v1/upstream-messages: messages agents sent that no command asked for, newest first, per UTC day. */
export const handler = httpHandler({ name: "upstream_messages", logger, callers: callersOf(config) }, async ({ event }) => ({
  data: await listUpstream(deps.store, validate(upstreamQuerySchema, event.queryStringParameters ?? {}), deps.now()),
}));
