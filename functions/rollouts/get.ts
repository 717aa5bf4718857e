import * as z from "zod";
import { parametersOf } from "../../lib/config-versions/api.ts";
import { documentClient } from "../../lib/core/aws.ts";
import { callersOf } from "../../lib/core/config.ts";
import { sqsClient } from "../../lib/core/queue.ts";
import { snsClient } from "../../lib/core/sns.ts";
import { gseFunction } from "../../lib/gse/context.ts";
import { httpHandler } from "../../lib/http/handler.ts";
import { getRollout } from "../../lib/rollouts/api.ts";
import { rolloutDeps } from "../../lib/rollouts/context.ts";
import { rolloutIdParamSchema } from "../../lib/rollouts/schemas.ts";

const context = await gseFunction("rollout_get");
const { config, logger } = context;
const deps = rolloutDeps(context, { dynamo: documentClient(), sqs: sqsClient(), sns: snsClient() });

/** GET /v1/rollouts/{rollout_id}: the rollout, its waves, gate and undo. */
export const handler = httpHandler({ name: "rollout_get", logger, callers: callersOf(config) }, async ({ event }) => {
  const { path } = parametersOf(event, rolloutIdParamSchema, z.object({}));
  return { data: await getRollout(deps, path.rollout_id) };
});
