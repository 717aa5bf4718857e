import { dispatchCommand } from "../../lib/commands/api.ts";
import { commandDeps } from "../../lib/commands/deps.ts";
import { documentClient } from "../../lib/core/aws.ts";
import { callersOf } from "../../lib/core/config.ts";
import { sqsClient } from "../../lib/core/queue.ts";
import { gseFunction } from "../../lib/gse/context.ts";
import { authorOf } from "../../lib/http/author.ts";
import { dispatchCommandSchema } from "../../lib/commands/schemas.ts";
import { httpHandler } from "../../lib/http/handler.ts";

const context = await gseFunction("dispatch_message");
const { config, logger } = context;
const deps = commandDeps(context, { dynamo: documentClient(), sqs: sqsClient() });

/** A target list of any size: the body may be larger than other routes' (lib/commands/schemas.ts). */
export const DISPATCH_MAX_BODY_BYTES = 8 * 1024 * 1024;

// Not gseHandler: the body is GSE's with slot_id/token optional and our rollout fields (lib/commands/schemas.ts).
export const handler = httpHandler(
  { name: "dispatch_message", logger, callers: callersOf(config), body: dispatchCommandSchema, maxBodyBytes: DISPATCH_MAX_BODY_BYTES },
  async (ctx) => ({ data: await dispatchCommand(deps, ctx.body, authorOf(ctx)) }),
);
