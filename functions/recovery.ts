import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import type { DynamoDBStreamHandler } from "aws-lambda";
import { getConfig, tableOf } from "../lib/config.ts";
import { FUNCTIONS } from "../lib/wiring.ts";
import { createLogger } from "../lib/logger.ts";
import { createRecoveryRouter } from "../lib/recovery.ts";

const config = await getConfig(FUNCTIONS.recovery.links);
const logger = createLogger("recovery", config.logLevel);
const processor = new BatchProcessor(EventType.DynamoDBStreams);
const tables = { configs: tableOf(config, "configs"), commands: tableOf(config, "commands") };
const recoverRecord = createRecoveryRouter({ tables, rules: {}, logger });

/** One failing record is reported alone (its sequence number); the rest of the batch is done. */
export const handler: DynamoDBStreamHandler = async (event, context) => {
  const response = await processPartialResponse(event, recoverRecord, processor, { context });
  logger.info("stream batch", { records: event.Records.length, failed: response.batchItemFailures.length });
  return response;
};
