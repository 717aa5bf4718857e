import type { ScheduledHandler } from "aws-lambda";
import { documentClient } from "../lib/core/aws.ts";
import { sqsClient } from "../lib/core/queue.ts";
import { snsClient } from "../lib/core/sns.ts";
import { flushingMetrics } from "../lib/core/metrics.ts";
import { gseFunction } from "../lib/gse/context.ts";
import { heartbeatDeps } from "../lib/heartbeat/jobs.ts";
import { assertBudgetFits, startPoll } from "../lib/heartbeat/poll.ts";

const context = await gseFunction("heartbeat");
const deps = heartbeatDeps(context, { dynamo: documentClient(), sns: snsClient(), sqs: sqsClient() });
assertBudgetFits(deps.settings, context.timeoutSeconds);

/** EventBridge's schedule tick: one poll, identified by the tick's time (a redelivered tick is not polled twice). */
export const handler: ScheduledHandler = flushingMetrics(async (event) => {
  const at = Date.parse(event.time);
  await startPoll(deps, Number.isNaN(at) ? Date.now() : at);
});
