/**
 * What a function that reads, settles or marks commands builds once at cold start, apart from
 * lib/commands/deps.ts: it imports nothing of GSE (neither its client nor its secrets), so such a
 * function neither bundles undici nor links GSE's secret or the slot token.
 */
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { queueUrlOf } from "../core/config.ts";
import type { FunctionContext } from "../core/function.ts";
import { sqsSender } from "../core/queue.ts";
import { commandSettings } from "./engine.ts";
import { assertLeaseOutlasts, type CommandViewDeps } from "./settings.ts";
import { commandReader } from "./reader.ts";

/**
 * What a function that reads, settles or marks commands but never sends builds: no GSE client, so its
 * bundle carries neither the client nor undici (issue 23: undici only in functions that talk to GSE).
 */
export function commandViewDeps(context: FunctionContext, clients: { readonly dynamo: DynamoDBDocumentClient; readonly sqs: SQSClient }): CommandViewDeps {
  const { config } = context;
  const settings = commandSettings(config);
  assertLeaseOutlasts(settings, context.timeoutSeconds);
  return {
    store: commandReader(context, clients.dynamo),
    // Delayed work (retries, ticks) on the automation queue: the sender rounds and caps the delay at SQS's 900 s.
    queue: sqsSender(clients.sqs, queueUrlOf(config, "automation")),
    settings,
    now: Date.now,
    random: Math.random,
    logger: context.logger,
    metrics: context.metrics,
  };
}
