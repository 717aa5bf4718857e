import { listUpstream } from "../../lib/commands/api.ts";
import { commandFunction } from "../../lib/commands/function.ts";
import { callersOf } from "../../lib/core/config.ts";
import { upstreamQuerySchema } from "../../lib/commands/schemas.ts";
import { httpHandler, validate } from "../../lib/http/handler.ts";

const { config, deps, logger } = await commandFunction("upstream_messages");

/** GET /v1/upstream-messages: messages agents sent that no command asked for, newest first, per UTC day. */
export const handler = httpHandler({ name: "upstream_messages", logger, callers: callersOf(config) }, async ({ event }) => ({
  data: await listUpstream(deps.store, validate(upstreamQuerySchema, event.queryStringParameters ?? {}), deps.now()),
}));
