import { documentClient } from "../../lib/core/aws.ts";
import { callersOf } from "../../lib/core/config.ts";
import { sqsClient } from "../../lib/core/queue.ts";
import { snsClient } from "../../lib/core/sns.ts";
import { gseFunction } from "../../lib/gse/context.ts";
import { httpHandler, validate } from "../../lib/http/handler.ts";
import { listRollouts } from "../../lib/rollouts/api.ts";
import { rolloutDeps } from "../../lib/rollouts/context.ts";
import { rolloutListQuerySchema } from "../../lib/rollouts/schemas.ts";

const context = await gseFunction("rollout_list");
const { config, logger } = context;
const deps = rolloutDeps(context, { dynamo: documentClient(), sqs: sqsClient(), sns: snsClient() });

/** GET /v1/rollouts: newest first, `?status=RUNNING&limit=&cursor=`. */
export const handler = httpHandler({ name: "rollout_list", logger, callers: callersOf(config) }, async ({ event }) => ({
  data: await listRollouts(deps, validate(rolloutListQuerySchema, event.queryStringParameters ?? {})),
}));
