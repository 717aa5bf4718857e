import type { DynamoDBStreamHandler } from "aws-lambda";
import { settleDatasourceCommand, settleDatasourceRollout } from "../lib/apm/datasources.ts";
import { apmDeps } from "../lib/apm/deps.ts";
import { createRecoveryRouter } from "../lib/automation/recovery.ts";
import { commandDeps } from "../lib/commands/deps.ts";
import { commandRecoveryRule } from "../lib/commands/retry.ts";
import { rolloutEndRule } from "../lib/rollouts/recovery.ts";
import { createAlertPublisher } from "../lib/core/alerts.ts";
import { configRecoveryRule } from "../lib/config-versions/undo.ts";
import { ConfigStore } from "../lib/config-versions/store.ts";
import { documentClient } from "../lib/core/aws.ts";
import { alertsTopicOf, tableOf } from "../lib/core/config.ts";
import { sqsClient } from "../lib/core/queue.ts";
import { ParsedBatch, streamRecordSchema } from "../lib/core/records.ts";
import { snsClient } from "../lib/core/sns.ts";
import { flushingMetrics } from "../lib/core/metrics.ts";
import { gseFunction } from "../lib/gse/context.ts";

const context = await gseFunction("recovery");
const { config, logger, gse } = context;
const clients = { dynamo: documentClient(), sqs: sqsClient(), sns: snsClient() };
const alerts = createAlertPublisher({ sns: clients.sns, topicArn: alertsTopicOf(config), logger, metrics: context.metrics });
const batch = new ParsedBatch("stream", streamRecordSchema, logger);
const tables = { configs: tableOf(config, "configs"), commands: tableOf(config, "commands") };
const configs = configRecoveryRule({
  gse,
  store: new ConfigStore({ client: clients.dynamo, tableName: tables.configs }),
  alerts,
  logger,
  now: () => Date.now(),
  operator: config.gse.username,
  metrics: context.metrics,
});
const apm = apmDeps(context, clients);
const commands = commandRecoveryRule({
  ...commandDeps(context, clients),
  alerts,
  // An APM datasource's command that failed undoes the datasource's action.
  onEnded: (command) => settleDatasourceCommand(apm, command),
});
// A rollout an APM datasource action started hands its end to the datasource (applied, or rolled back).
const rollouts = rolloutEndRule((rollout) => settleDatasourceRollout(apm, rollout));
const recoverRecord = createRecoveryRouter({
  tables,
  rules: {
    configs,
    commands: async (record) => {
      await commands(record);
      await rollouts(record);
    },
  },
  logger,
});

/** One failing record is reported alone (its sequence number); the rest of the batch is done. */
export const handler: DynamoDBStreamHandler = flushingMetrics(async (event, lambdaContext) => {
  const response = await batch.process(event, recoverRecord, lambdaContext);
  logger.info("stream batch", { records: event.Records.length, failed: response.batchItemFailures.length });
  return response;
});
