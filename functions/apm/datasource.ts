import { answerDatasource } from "../../lib/apm/api.ts";
import { apmWithRollouts } from "../../lib/apm/rollout-deps.ts";
import { documentClient } from "../../lib/core/aws.ts";
import { callersOf } from "../../lib/core/config.ts";
import { sqsClient } from "../../lib/core/queue.ts";
import { snsClient } from "../../lib/core/sns.ts";
import { gseFunction } from "../../lib/gse/context.ts";
import { httpHandler } from "../../lib/http/handler.ts";
import * as z from "zod";

const context = await gseFunction("apm_datasource");
const { config, logger } = context;
const clients = { dynamo: documentClient(), sqs: sqsClient(), sns: snsClient() };
// A start or stop with a strategy, bake or gate tells the probes by a rollout.
const deps = apmWithRollouts(context, clients).apm;

/** Start or stop an APM datasource: its route through the versioned config flow, then a command (or a rollout) to the app's probes. */
export const handler = httpHandler({ name: "apm_datasource", logger, callers: callersOf(config), body: z.unknown() }, (ctx) => answerDatasource(deps, ctx));
