import * as z from "zod";
import { consoleRolloutAction, requireJsonRequest } from "../../lib/console/rollout-action.ts";
import { parametersOf } from "../../lib/config-versions/api.ts";
import { documentClient } from "../../lib/core/aws.ts";
import { callersOf } from "../../lib/core/config.ts";
import { sqsClient } from "../../lib/core/queue.ts";
import { snsClient } from "../../lib/core/sns.ts";
import { gseFunction } from "../../lib/gse/context.ts";
import { browserAuthenticator } from "../../lib/http/auth.ts";
import { authorOf } from "../../lib/http/author.ts";
import { httpHandler } from "../../lib/http/handler.ts";
import { rolloutDeps } from "../../lib/rollouts/context.ts";
import { rolloutActionParamSchema, rolloutActionSchema } from "../../lib/rollouts/schemas.ts";

const context = await gseFunction("console_rollout_action");
const { config, logger } = context;
const deps = rolloutDeps(context, { dynamo: documentClient(), sqs: sqsClient(), sns: snsClient() });

/** POST /v1/console/rollouts/{rollout_id}/pause|resume|abort: the status page's buttons (HTTP Basic, a JSON body). */
export const handler = httpHandler(
  { name: "console_rollout_action", logger, authenticate: browserAuthenticator(callersOf(config)), body: rolloutActionSchema },
  async ({ event, body, caller }) => {
    requireJsonRequest(event.headers);
    const { path } = parametersOf(event, rolloutActionParamSchema, z.object({}));
    return { data: await consoleRolloutAction(deps, path.rollout_id, path.action, authorOf({ caller }), body.reason) };
  },
);
