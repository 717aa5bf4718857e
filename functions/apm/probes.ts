import { answerProbes } from "../../lib/apm/api.ts";
import { apmWithRollouts } from "../../lib/apm/rollout-deps.ts";
import { documentClient } from "../../lib/core/aws.ts";
import { callersOf } from "../../lib/core/config.ts";
import { sqsClient } from "../../lib/core/queue.ts";
import { snsClient } from "../../lib/core/sns.ts";
import { gseFunction } from "../../lib/gse/context.ts";
import { httpHandler } from "../../lib/http/handler.ts";
import * as z from "zod";

const context = await gseFunction("apm_probes");
const { config, logger } = context;
const clients = { dynamo: documentClient(), sqs: sqsClient(), sns: snsClient() };
// Upgrades with a strategy, bake, gate or undo run as rollouts.
const deps = apmWithRollouts(context, clients).apm;

/** APM probes: report instances, list them within the retention window, versions, discovery and upgrade commands. */
export const handler = httpHandler({ name: "apm_probes", logger, callers: callersOf(config), body: z.unknown() }, (ctx) => answerProbes(deps, ctx));
