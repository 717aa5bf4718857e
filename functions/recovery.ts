import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import type { DynamoDBStreamHandler } from "aws-lambda";
import { getConfig } from "../lib/config.ts";
import { createLogger } from "../lib/logger.ts";
import { createRecoveryRouter } from "../lib/recovery.ts";

const config = await getConfig();
const logger = createLogger("recovery", config.logLevel);
const processor = new BatchProcessor(EventType.DynamoDBStreams);
const recoverRecord = createRecoveryRouter({ config, rules: {}, logger });

/** One failing record is reported alone (its sequence number); the rest of the batch is done. */
export const handler: DynamoDBStreamHandler = async (event, context) => {
  const response = await processPartialResponse(event, recoverRecord, processor, { context });
  logger.info("stream batch", { records: event.Records.length, failed: response.batchItemFailures.length });
  return response;
};
