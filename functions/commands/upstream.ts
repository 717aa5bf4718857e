import { listUpstream } from "../../lib/commands/api.ts";
import { commandReader } from "../../lib/commands/reader.ts";
import { documentClient } from "../../lib/core/aws.ts";
import { functionContext } from "../../lib/core/function.ts";
import { callersOf } from "../../lib/core/config.ts";
import { upstreamQuerySchema } from "../../lib/commands/schemas.ts";
import { httpHandler, validate } from "../../lib/http/handler.ts";

const context = await functionContext("upstream_messages");
const { config, logger } = context;
// Only reads the commands table: no GSE client (no undici), no queue client in its bundle.
const store = commandReader(context, documentClient());

/** GET /v1/upstream-messages: messages agents sent that no command asked for, newest first, per UTC day. */
export const handler = httpHandler({ name: "upstream_messages", logger, callers: callersOf(config) }, async ({ event }) => ({
  data: await listUpstream(store, validate(upstreamQuerySchema, event.queryStringParameters ?? {}), Date.now()),
}));
