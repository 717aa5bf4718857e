import type { ScheduledHandler } from "aws-lambda";
import { commandDeps } from "../../lib/commands/deps.ts";
import { documentClient } from "../../lib/core/aws.ts";
import { sweepOutbox } from "../../lib/core/outbox.ts";
import { outboxSweepDeps } from "../../lib/core/outbox-sweep.ts";
import { sqsClient } from "../../lib/core/queue.ts";
import { snsClient } from "../../lib/core/sns.ts";
import { flushingMetrics } from "../../lib/core/metrics.ts";
import { gseFunction } from "../../lib/gse/context.ts";
import { sweepCommands } from "../../lib/commands/sweep.ts";
import { sweepRollouts } from "../../lib/rollouts/api.ts";
import { rolloutDeps } from "../../lib/rollouts/context.ts";

const context = await gseFunction("command_sweep");
const { logger } = context;
const deps = commandDeps(context, { dynamo: documentClient(), sqs: sqsClient() });
const rollouts = rolloutDeps(context, { dynamo: documentClient(), sqs: sqsClient(), sns: snsClient() });
const outbox = outboxSweepDeps(context, { dynamo: documentClient(), sns: snsClient() });

/**
 * Scheduled: a running command whose agents are all final ends; one nobody looked at for two
 * watchdog periods gets its watchdog back; every alert a crashed writer left in an outbox is published.
 */
export const handler: ScheduledHandler = flushingMetrics(async () => {
  logger.info("command sweep", { ...(await sweepCommands(deps)) });
  // A rollout whose chain of ticks broke (a crash, a lost message) gets a tick back.
  logger.info("rollout sweep", await sweepRollouts(rollouts));
  logger.info("outbox sweep", await sweepOutbox(outbox));
});
