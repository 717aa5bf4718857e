/**
 * What a function that works on APM apps builds once at cold start: the apps table, the versioned
 * config flow (datasource routes), commands (telling probes) and the alerts topic. Only functions
 * that link all of those import this file.
 */
import type { SNSClient } from "@aws-sdk/client-sns";
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { commandDeps } from "../commands/deps.ts";
import { createAlertPublisher } from "../core/alerts.ts";
import { alertsTopicOf, tableOf } from "../core/config.ts";
import { configDeps } from "../config-versions/deps.ts";
import type { GseFunctionContext } from "../gse/context.ts";
import { AppStore } from "./store.ts";
import type { ApmDeps } from "./apps.ts";

export function apmDeps(
  context: GseFunctionContext,
  clients: { readonly dynamo: DynamoDBDocumentClient; readonly sqs: SQSClient; readonly sns: SNSClient },
): ApmDeps {
  const { config } = context;
  return {
    store: new AppStore({ client: clients.dynamo, tableName: tableOf(config, "apps") }),
    configs: configDeps(context, clients),
    commands: commandDeps(context, clients),
    alerts: createAlertPublisher({ sns: clients.sns, topicArn: alertsTopicOf(config), logger: context.logger, metrics: context.metrics }),
    settings: { retentionDays: config.apm.retentionDays, platName: config.apm.platName },
    now: Date.now,
    logger: context.logger,
  };
}
