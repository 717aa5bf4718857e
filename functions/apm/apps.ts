import { answerApps } from "../../lib/apm/api.ts";
import { apmDeps } from "../../lib/apm/deps.ts";
import { documentClient } from "../../lib/core/aws.ts";
import { callersOf } from "../../lib/core/config.ts";
import { sqsClient } from "../../lib/core/queue.ts";
import { snsClient } from "../../lib/core/sns.ts";
import { gseFunction } from "../../lib/gse/context.ts";
import { httpHandler } from "../../lib/http/handler.ts";
import * as z from "zod";

const context = await gseFunction("apm_apps");
const { config, logger } = context;
const deps = apmDeps(context, { dynamo: documentClient(), sqs: sqsClient(), sns: snsClient() });

/** APM applications: create, list, read, update, delete. */
export const handler = httpHandler({ name: "apm_apps", logger, callers: callersOf(config), body: z.unknown() }, (ctx) => answerApps(deps, ctx));
