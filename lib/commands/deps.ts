/**
 * What a function that works on commands builds once at cold start. Only functions that link the
 * commands table, the slot token and the automation queue import this file.
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { queueUrlOf, slotTokenOf, tableOf, type Config } from "../core/config.ts";
import type { GseClient } from "../gse/client.ts";
import { CommandStore } from "./store.ts";
import { commandSettings, type CommandDeps } from "./engine.ts";
import { sqsJobQueue } from "./queue.ts";

export function commandDeps(config: Config, clients: { dynamo: DynamoDBDocumentClient; sqs: SQSClient; gse: GseClient; logger: Logger }): CommandDeps {
  return {
    store: new CommandStore({ client: clients.dynamo, tableName: tableOf(config, "commands") }),
    gse: clients.gse,
    slot: { slotId: config.gse.slotId, slotToken: slotTokenOf(config) },
    queue: sqsJobQueue(clients.sqs, queueUrlOf(config, "automation")),
    settings: commandSettings(config),
    now: Date.now,
    random: Math.random,
    logger: clients.logger,
  };
}
