import type { ScheduledHandler } from "aws-lambda";
import { commandDeps } from "../../lib/commands/deps.ts";
import { documentClient } from "../../lib/core/aws.ts";
import { sqsClient } from "../../lib/core/queue.ts";
import { flushingMetrics } from "../../lib/core/metrics.ts";
import { gseFunction } from "../../lib/gse/context.ts";
import { sweepCommands } from "../../lib/commands/sweep.ts";

const context = await gseFunction("command_sweep");
const { logger } = context;
const deps = commandDeps(context, { dynamo: documentClient(), sqs: sqsClient() });

/** Scheduled: a running command whose agents are all final ends; one nobody looked at for two watchdog periods gets its watchdog back. */
export const handler: ScheduledHandler = flushingMetrics(async () => {
  logger.info("command sweep", { ...(await sweepCommands(deps)) });
});
