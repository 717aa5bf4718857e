import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SNSClient } from "@aws-sdk/client-sns";
import { SQSClient } from "@aws-sdk/client-sqs";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { ScheduledHandler } from "aws-lambda";
import { getConfig, gseOf } from "../lib/core/config.ts";
import { GseClient } from "../lib/gse/client.ts";
import { heartbeatDeps } from "../lib/heartbeat/jobs.ts";
import { assertBudgetFits, startPoll } from "../lib/heartbeat/poll.ts";
import { createLogger } from "../lib/core/logger.ts";
import { FUNCTIONS } from "../lib/wiring.ts";

const config = await getConfig(FUNCTIONS.heartbeat.links);
const logger = createLogger("heartbeat", config.logLevel);
const deps = heartbeatDeps(config, {
  dynamo: DynamoDBDocumentClient.from(new DynamoDBClient({})),
  sns: new SNSClient({}),
  sqs: new SQSClient({}),
  gse: new GseClient({ gse: gseOf(config), logger }),
  logger,
});
assertBudgetFits(deps.settings, FUNCTIONS.heartbeat.timeoutSeconds);

/** EventBridge's schedule tick: one poll, identified by the tick's time (a redelivered tick is not polled twice). */
export const handler: ScheduledHandler = async (event) => {
  const at = Date.parse(event.time);
  await startPoll(deps, Number.isNaN(at) ? Date.now() : at);
};
