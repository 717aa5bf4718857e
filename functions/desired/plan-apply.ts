import * as z from "zod";
import { parametersOf } from "../../lib/config-versions/api.ts";
import { documentClient } from "../../lib/core/aws.ts";
import { callersOf } from "../../lib/core/config.ts";
import { sqsClient } from "../../lib/core/queue.ts";
import { snsClient } from "../../lib/core/sns.ts";
import { applyPlan } from "../../lib/desired/apply.ts";
import { applyDeps } from "../../lib/desired/deps.ts";
import { applyRequestSchema, planPathSchema } from "../../lib/desired/schemas.ts";
import { gseFunction } from "../../lib/gse/context.ts";
import { authorOf } from "../../lib/http/author.ts";
import { httpHandler } from "../../lib/http/handler.ts";

const context = await gseFunction("plan_apply");
const { config, logger } = context;
const deps = applyDeps(context, { dynamo: documentClient(), sqs: sqsClient(), sns: snsClient() });

/** POST /v1/plans/{plan_id}/apply: the plan carried out (409 PLAN_STALE with a new plan when GSE moved since). */
export const handler = httpHandler({ name: "plan_apply", logger, callers: callersOf(config), body: applyRequestSchema }, async ({ event, body, caller }) => {
  const { path } = parametersOf(event, planPathSchema, z.object({}));
  return { data: await applyPlan(deps, path.plan_id, body, authorOf({ caller })) };
});
