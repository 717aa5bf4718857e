import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import { SQSClient } from "@aws-sdk/client-sqs";
import type { SQSHandler } from "aws-lambda";
import { createJobRunner } from "../lib/automation.ts";
import { getConfig, queueUrlOf } from "../lib/config.ts";
import { FUNCTIONS } from "../lib/wiring.ts";
import { createLogger } from "../lib/logger.ts";

const config = await getConfig(FUNCTIONS.automation.links);
const logger = createLogger("automation", config.logLevel);
const sqs = new SQSClient({});
const processor = new BatchProcessor(EventType.SQS);
// Job types register here as their capabilities land (delayed command retries, probe jobs).
const runJob = createJobRunner({ jobs: {}, sqs, deadLetterQueueUrl: queueUrlOf(config, "automationDlq"), logger });

export const handler: SQSHandler = async (event, context) => {
  const response = await processPartialResponse(event, runJob, processor, { context });
  logger.info("queue batch", { records: event.Records.length, failed: response.batchItemFailures.length });
  return response;
};
