import { listUpstream } from "../../lib/commands/api.ts";
import { commandViewDeps } from "../../lib/commands/view-deps.ts";
import { documentClient } from "../../lib/core/aws.ts";
import { sqsClient } from "../../lib/core/queue.ts";
import { functionContext } from "../../lib/core/function.ts";
import { callersOf } from "../../lib/core/config.ts";
import { upstreamQuerySchema } from "../../lib/commands/schemas.ts";
import { httpHandler, validate } from "../../lib/http/handler.ts";

const context = await functionContext("upstream_messages");
const { config, logger } = context;
// Reads and marks commands, never sends: no GSE client, so no undici in its bundle.
const deps = commandViewDeps(context, { dynamo: documentClient(), sqs: sqsClient() });

/** GET /v1/upstream-messages: messages agents sent that no command asked for, newest first, per UTC day. */
export const handler = httpHandler({ name: "upstream_messages", logger, callers: callersOf(config) }, async ({ event }) => ({
  data: await listUpstream(deps.store, validate(upstreamQuerySchema, event.queryStringParameters ?? {}), deps.now()),
}));
