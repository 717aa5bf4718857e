/**
 * What a function that works on rollouts builds once at cold start: the rollout store (the
 * commands table), the command engine its waves run on, the fleet its gate reads, the alerts topic.
 */
import type { SNSClient } from "@aws-sdk/client-sns";
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { commandDeps } from "../commands/deps.ts";
import { createAlertPublisher } from "../core/alerts.ts";
import { alertsTopicOf, tableOf } from "../core/config.ts";
import { fleetSettings } from "../fleet/deps.ts";
import { FleetStore } from "../fleet/store.ts";
import type { GseFunctionContext } from "../gse/context.ts";
import { DEFAULT_ROLLOUT_SETTINGS, type RolloutDeps } from "./deps.ts";
import { RolloutStore } from "./store.ts";
import { TemplateStore } from "../templates/store.ts";

export function rolloutDeps(
  context: GseFunctionContext,
  clients: { readonly dynamo: DynamoDBDocumentClient; readonly sqs: SQSClient; readonly sns: SNSClient },
): RolloutDeps {
  const { config, logger } = context;
  const commands = commandDeps(context, clients);
  return {
    store: new RolloutStore({ client: clients.dynamo, tableName: tableOf(config, "commands") }),
    commands,
    templates: new TemplateStore({ client: clients.dynamo, tableName: tableOf(config, "commands") }),
    fleet: { store: new FleetStore({ client: clients.dynamo, tableName: tableOf(config, "fleet") }), now: Date.now, settings: fleetSettings(config), logger },
    alerts: createAlertPublisher({ sns: clients.sns, topicArn: alertsTopicOf(config), logger, metrics: context.metrics }),
    queue: commands.queue,
    now: Date.now,
    settings: DEFAULT_ROLLOUT_SETTINGS,
  };
}
