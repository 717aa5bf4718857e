import { documentClient } from "../../lib/core/aws.ts";
import { callersOf } from "../../lib/core/config.ts";
import { sqsClient } from "../../lib/core/queue.ts";
import { snsClient } from "../../lib/core/sns.ts";
import { gseFunction } from "../../lib/gse/context.ts";
import { authorOf } from "../../lib/http/author.ts";
import { httpHandler } from "../../lib/http/handler.ts";
import { rolloutSpecOf, startRollout } from "../../lib/rollouts/api.ts";
import { rolloutDeps } from "../../lib/rollouts/context.ts";
import { startRolloutSchema } from "../../lib/rollouts/schemas.ts";

const context = await gseFunction("rollout_start");
const { config, logger } = context;
const deps = rolloutDeps(context, { dynamo: documentClient(), sqs: sqsClient(), sns: snsClient() });

/** POST /v1/rollouts: a command in waves with bake, health gate and undo; idempotent on rollout_id. */
export const handler = httpHandler({ name: "rollout_start", logger, callers: callersOf(config), body: startRolloutSchema }, async ({ body, caller }) => ({
  data: await startRollout(deps, await rolloutSpecOf(deps, body), authorOf({ caller })),
}));
