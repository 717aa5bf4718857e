/**
 * What a function that works on APM apps builds once at cold start: the apps table, the versioned
 * config flow (datasource routes), commands (telling probes) and the alerts topic. Only functions
 * that link all of those import this file.
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import { SNSClient } from "@aws-sdk/client-sns";
import { SQSClient } from "@aws-sdk/client-sqs";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { commandDeps } from "../commands/deps.ts";
import { alertsTopicOf, getConfig, gseOf, tableOf, type Config } from "../core/config.ts";
import { configDeps } from "../config-versions/deps.ts";
import { createAlertPublisher } from "../core/alerts.ts";
import { documentClient } from "../core/aws.ts";
import { GseClient } from "../gse/client.ts";
import { createLogger } from "../core/logger.ts";
import { AppStore } from "./store.ts";
import { FUNCTIONS, type FunctionKey } from "../wiring.ts";
import type { ApmDeps } from "./apps.ts";

export const appStoreOf = (config: Config, dynamo: DynamoDBDocumentClient): AppStore => new AppStore({ client: dynamo, tableName: tableOf(config, "apps") });

export function apmDeps(config: Config, clients: { dynamo: DynamoDBDocumentClient; gse: GseClient; logger: Logger; sqs?: SQSClient; sns?: SNSClient }): ApmDeps {
  const { dynamo, gse, logger } = clients;
  return {
    store: appStoreOf(config, dynamo),
    configs: configDeps({ config, logger, gse }, dynamo),
    commands: commandDeps(config, { dynamo, sqs: clients.sqs ?? new SQSClient({}), gse, logger }),
    alerts: createAlertPublisher({ sns: clients.sns ?? new SNSClient({}), topicArn: alertsTopicOf(config), logger }),
    settings: { retentionDays: config.apm.retentionDays, platName: config.apm.platName },
    now: Date.now,
    logger,
  };
}

/** An APM route's function: its config, logger and deps, built once per instance. */
export async function apmFunction(name: FunctionKey): Promise<{ config: Config; deps: ApmDeps; logger: Logger }> {
  const config = await getConfig(FUNCTIONS[name].links);
  const logger = createLogger(name, config.logLevel);
  const gse = new GseClient({ gse: gseOf(config), logger });
  return { config, logger, deps: apmDeps(config, { dynamo: documentClient(), gse, logger }) };
}
