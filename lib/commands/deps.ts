/**
 * What a function that works on commands builds once at cold start. Only functions that link the
 * commands table, the slot token and the automation queue import this file.
 */
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { queueUrlOf, slotTokenOf, tableOf } from "../core/config.ts";
import { sqsSender } from "../core/queue.ts";
import type { GseFunctionContext } from "../gse/context.ts";
import { CommandStore } from "./store.ts";
import { commandSettings, type CommandDeps } from "./engine.ts";
import { assertLeaseOutlasts } from "./settings.ts";

export function commandDeps(context: GseFunctionContext, clients: { readonly dynamo: DynamoDBDocumentClient; readonly sqs: SQSClient }): CommandDeps {
  const { config } = context;
  const settings = commandSettings(config);
  assertLeaseOutlasts(settings, context.timeoutSeconds);
  return {
    store: new CommandStore({ client: clients.dynamo, tableName: tableOf(config, "commands") }),
    gse: context.gse,
    slot: { slotId: config.gse.slotId, slotToken: slotTokenOf(config) },
    // Delayed work (retries, ticks) on the automation queue: the sender rounds and caps the delay at SQS's 900 s.
    queue: sqsSender(clients.sqs, queueUrlOf(config, "automation")),
    settings,
    now: Date.now,
    random: Math.random,
    logger: context.logger,
    metrics: context.metrics,
  };
}
