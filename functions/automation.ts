import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import { SNSClient } from "@aws-sdk/client-sns";
import { SQSClient } from "@aws-sdk/client-sqs";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { SQSHandler } from "aws-lambda";
import { createJobRunner } from "../lib/automation.ts";
import { getConfig, gseOf, queueUrlOf } from "../lib/config.ts";
import { GseClient } from "../lib/gse/client.ts";
import { heartbeatDeps, heartbeatShardJob } from "../lib/heartbeat/jobs.ts";
import { HEARTBEAT_SHARD_JOB } from "../lib/heartbeat/poll.ts";
import { FUNCTIONS } from "../lib/wiring.ts";
import { createLogger } from "../lib/logger.ts";

const config = await getConfig(FUNCTIONS.automation.links);
const logger = createLogger("automation", config.logLevel);
const sqs = new SQSClient({});
const processor = new BatchProcessor(EventType.SQS);
const heartbeat = heartbeatDeps(config, {
  dynamo: DynamoDBDocumentClient.from(new DynamoDBClient({})),
  sns: new SNSClient({}),
  sqs,
  gse: new GseClient({ gse: gseOf(config), logger }),
  logger,
});
// Job types register here as their capabilities land (delayed command retries, probe jobs).
const runJob = createJobRunner({
  jobs: { [HEARTBEAT_SHARD_JOB]: heartbeatShardJob(heartbeat) },
  sqs,
  deadLetterQueueUrl: queueUrlOf(config, "automationDlq"),
  logger,
});

export const handler: SQSHandler = async (event, context) => {
  const response = await processPartialResponse(event, runJob, processor, { context });
  logger.info("queue batch", { records: event.Records.length, failed: response.batchItemFailures.length });
  return response;
};
