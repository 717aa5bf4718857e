import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import { SNSClient } from "@aws-sdk/client-sns";
import type { DynamoDBStreamHandler } from "aws-lambda";
import { alertsTopicOf, getConfig, gseOf, tableOf } from "../lib/core/config.ts";
import { createAlertPublisher } from "../lib/core/alerts.ts";
import { documentClient } from "../lib/core/aws.ts";
import { configRecoveryRule } from "../lib/config-versions/rollback.ts";
import { GseClient } from "../lib/gse/client.ts";
import { apmDeps } from "../lib/apm/deps.ts";
import { settleDatasourceCommand } from "../lib/apm/datasources.ts";
import { createLogger } from "../lib/core/logger.ts";
import { createRecoveryRouter } from "../lib/automation/recovery.ts";
import { SQSClient } from "@aws-sdk/client-sqs";
import { commandDeps } from "../lib/commands/deps.ts";
import { commandRecoveryRule } from "../lib/commands/retry.ts";
import { ConfigStore } from "../lib/config-versions/store.ts";
import { FUNCTIONS } from "../lib/wiring.ts";

const config = await getConfig(FUNCTIONS.recovery.links);
const logger = createLogger("recovery", config.logLevel);
const processor = new BatchProcessor(EventType.DynamoDBStreams);
const tables = { configs: tableOf(config, "configs"), commands: tableOf(config, "commands") };
const gse = new GseClient({ gse: gseOf(config), logger });
const sns = new SNSClient({});
const dynamo = documentClient();
const alerts = createAlertPublisher({ sns, topicArn: alertsTopicOf(config), logger });
const configs = configRecoveryRule({
  gse,
  store: new ConfigStore({ client: dynamo, tableName: tables.configs }),
  alerts,
  logger,
  now: () => Date.now(),
  operator: config.gse.username,
});
const sqs = new SQSClient({});
const apm = apmDeps(config, { dynamo, gse, logger, sqs, sns });
const commands = commandRecoveryRule({
  ...commandDeps(config, { dynamo, sqs, gse, logger }),
  alerts,
  // An APM datasource's command that failed undoes the datasource's action.
  onEnded: (command) => settleDatasourceCommand(apm, command),
});
const recoverRecord = createRecoveryRouter({ tables, rules: { configs, commands }, logger });

/** One failing record is reported alone (its sequence number); the rest of the batch is done. */
export const handler: DynamoDBStreamHandler = async (event, context) => {
  const response = await processPartialResponse(event, recoverRecord, processor, { context });
  logger.info("stream batch", { records: event.Records.length, failed: response.batchItemFailures.length });
  return response;
};
