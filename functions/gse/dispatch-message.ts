import { commandTimeoutSubject, dispatchCommand } from "../../lib/commands/api.ts";
import { commandDeps } from "../../lib/commands/deps.ts";
import { documentClient } from "../../lib/core/aws.ts";
import { callersOf, tableOf } from "../../lib/core/config.ts";
import { sqsClient } from "../../lib/core/queue.ts";
import { gseFunction } from "../../lib/gse/context.ts";
import { authorOf } from "../../lib/http/author.ts";
import { dispatchBodySchema } from "../../lib/commands/schemas.ts";
import { commandRequestOf } from "../../lib/commands/targets.ts";
import { FleetStore } from "../../lib/fleet/store.ts";
import { httpHandler, MAX_ROUTE_BODY_BYTES } from "../../lib/http/handler.ts";

const context = await gseFunction("dispatch_message");
const { config, logger } = context;
const deps = commandDeps(context, { dynamo: documentClient(), sqs: sqsClient() });
const fleet = new FleetStore({ client: documentClient(), tableName: tableOf(config, "fleet") });

/** Larger target lists go as several commands (docs/api.md "Payload limits"). */
const TOO_LARGE_HINT = "send the targets in several dispatch_message calls within the limit, each with its own message_id (docs/api.md, Payload limits)";

// Not gseHandler: the body is GSE's with slot_id/token optional and our rollout fields (lib/commands/schemas.ts).
// The largest body Lambda's payload leaves room for: a target list larger than other routes' bodies.
export const handler = httpHandler(
  {
    name: "dispatch_message",
    logger,
    callers: callersOf(config),
    body: dispatchBodySchema,
    maxBodyBytes: MAX_ROUTE_BODY_BYTES,
    maxBodyHint: TOO_LARGE_HINT,
  },
  async (ctx) => {
    ctx.deadline.working(commandTimeoutSubject(ctx.body.message_id));
    const request = await commandRequestOf({ store: deps.store, fleet }, ctx.body);
    return { data: await dispatchCommand(deps, request, authorOf(ctx)) };
  },
);
