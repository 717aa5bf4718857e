import * as z from "zod";
import { parametersOf } from "../../lib/config-versions/api.ts";
import { documentClient } from "../../lib/core/aws.ts";
import { callersOf } from "../../lib/core/config.ts";
import { sqsClient } from "../../lib/core/queue.ts";
import { snsClient } from "../../lib/core/sns.ts";
import { gseFunction } from "../../lib/gse/context.ts";
import { authorOf } from "../../lib/http/author.ts";
import { httpHandler, validate } from "../../lib/http/handler.ts";
import { abortRolloutByOperator, pauseRollout, resumeRollout } from "../../lib/rollouts/api.ts";
import { rolloutDeps } from "../../lib/rollouts/context.ts";
import { rolloutActionSchema, rolloutIdParamSchema, ROLLOUT_ACTIONS } from "../../lib/rollouts/schemas.ts";

const context = await gseFunction("rollout_action");
const { config, logger } = context;
const deps = rolloutDeps(context, { dynamo: documentClient(), sqs: sqsClient(), sns: snsClient() });

/** POST /v1/rollouts/{rollout_id}/pause|resume|abort: the action is the route's last segment. */
export const handler = httpHandler(
  { name: "rollout_action", logger, callers: callersOf(config), body: rolloutActionSchema },
  async ({ event, body, caller }) => {
    const { path } = parametersOf(event, rolloutIdParamSchema, z.object({}));
    const action = validate(z.enum(ROLLOUT_ACTIONS), (event.routeKey ?? event.rawPath).split("/").at(-1));
    const who = authorOf({ caller });
    if (action === "pause") return { data: await pauseRollout(deps, path.rollout_id) };
    if (action === "resume") return { data: await resumeRollout(deps, path.rollout_id) };
    return { data: await abortRolloutByOperator(deps, path.rollout_id, body.reason ? `aborted by ${who}: ${body.reason}` : `aborted by ${who}`) };
  },
);
