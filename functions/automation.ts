import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SQSClient } from "@aws-sdk/client-sqs";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { SQSHandler } from "aws-lambda";
import { AGENT_WRITE_BACK_JOB, agentWriteBackJob } from "../lib/agent-write-back.ts";
import { createJobRunner } from "../lib/automation.ts";
import { getConfig, queueUrlOf, tableOf } from "../lib/config.ts";
import { FUNCTIONS } from "../lib/wiring.ts";
import { createLogger } from "../lib/logger.ts";
import { DynamoAgentStore } from "../lib/store/agents.ts";

const config = await getConfig(FUNCTIONS.automation.links);
const logger = createLogger("automation", config.logLevel);
const sqs = new SQSClient({});
const agents = new DynamoAgentStore({ client: DynamoDBDocumentClient.from(new DynamoDBClient({})), tableName: tableOf(config, "agents") });
const processor = new BatchProcessor(EventType.SQS);
// Job types register here as their capabilities land (delayed command retries, probe jobs).
const runJob = createJobRunner({
  jobs: { [AGENT_WRITE_BACK_JOB]: agentWriteBackJob({ store: agents, ttlMs: config.agentCacheTtlSeconds * 1000, now: Date.now, logger }) },
  sqs,
  deadLetterQueueUrl: queueUrlOf(config, "automationDlq"),
  logger,
});

export const handler: SQSHandler = async (event, context) => {
  const response = await processPartialResponse(event, runJob, processor, { context });
  logger.info("queue batch", { records: event.Records.length, failed: response.batchItemFailures.length });
  return response;
};
