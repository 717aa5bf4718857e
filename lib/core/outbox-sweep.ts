/**
 * The outbox sweep as a function runs it (functions/commands/sweep.ts, on the command_sweep
 * schedule): every outbox table and the alerts topic. Apart from lib/core/outbox.ts so that the
 * features writing to an outbox do not read the topic and the other tables' names.
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import type { SNSClient } from "@aws-sdk/client-sns";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { OUTBOX_TABLES } from "../resources.ts";
import { createAlertPublisher } from "./alerts.ts";
import { alertsTopicOf, tableOf, type Config } from "./config.ts";
import type { MetricsRecorder } from "./metrics.ts";
import { Outbox, type SweepOutboxDeps } from "./outbox.ts";

/** Each outbox table's name; a table added to OUTBOX_TABLES and missing here is a type error. */
const outboxTableNames = (config: Config) =>
  ({
    fleet: tableOf(config, "fleet"),
    configs: tableOf(config, "configs"),
    commands: tableOf(config, "commands"),
  }) satisfies Record<(typeof OUTBOX_TABLES)[number], string>;

export function outboxSweepDeps(
  context: { readonly config: Config; readonly logger: Logger; readonly metrics?: MetricsRecorder },
  clients: { readonly dynamo: DynamoDBDocumentClient; readonly sns: SNSClient },
): SweepOutboxDeps {
  const { config, logger, metrics } = context;
  return {
    outboxes: Object.values(outboxTableNames(config)).map((table) => new Outbox({ client: clients.dynamo, table })),
    publisher: createAlertPublisher({ sns: clients.sns, topicArn: alertsTopicOf(config), logger, ...(metrics ? { metrics } : {}) }),
    now: Date.now,
    logger,
  };
}
