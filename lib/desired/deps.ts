/**
 * What plans and applies run with. An apply writes through the versioned config flow
 * (lib/config-versions: version, verify, head move), reads the fleet for its bake gate, alerts on
 * the topic and queues its bake ticks on the automation queue.
 */
import type { SNSClient } from "@aws-sdk/client-sns";
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { createAlertPublisher } from "../core/alerts.ts";
import { alertsTopicOf, queueUrlOf, tableOf } from "../core/config.ts";
import { sqsSender } from "../core/queue.ts";
import { configDeps } from "../config-versions/deps.ts";
import { FleetStore } from "../fleet/store.ts";
import type { GseFunctionContext } from "../gse/context.ts";

import { DEFAULT_APPLY_SETTINGS, type ApplyDeps } from "./apply-deps.ts";
import { planDeps } from "./plan-deps.ts";

export { DEFAULT_APPLY_SETTINGS, type ApplyDeps, type ApplySettings } from "./apply-deps.ts";
export { planDeps } from "./plan-deps.ts";

export function applyDeps(
  context: GseFunctionContext,
  clients: { readonly dynamo: DynamoDBDocumentClient; readonly sqs: SQSClient; readonly sns: SNSClient },
): ApplyDeps {
  const { config, logger } = context;
  return {
    ...planDeps(context, clients),
    configs: configDeps(context, clients),
    fleet: new FleetStore({ client: clients.dynamo, tableName: tableOf(config, "fleet") }),
    alerts: createAlertPublisher({ sns: clients.sns, topicArn: alertsTopicOf(config), logger, metrics: context.metrics }),
    queue: sqsSender(clients.sqs, queueUrlOf(config, "automation")),
    settings: DEFAULT_APPLY_SETTINGS,
  };
}
