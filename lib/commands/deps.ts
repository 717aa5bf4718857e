/**
 * What a function that works on commands builds once at cold start. Only functions that link the
 * commands table, the slot token and the automation queue import this file.
 */
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { slotTokenOf } from "../core/config.ts";
import type { GseFunctionContext } from "../gse/context.ts";
import type { CommandDeps } from "./engine.ts";
import { commandViewDeps } from "./view-deps.ts";

/** The view's deps (lib/commands/view-deps.ts), with the GSE client and the slot that sending needs. */
export function commandDeps(context: GseFunctionContext, clients: { readonly dynamo: DynamoDBDocumentClient; readonly sqs: SQSClient }): CommandDeps {
  return { ...commandViewDeps(context, clients), gse: context.gse, slot: { slotId: context.config.gse.slotId, slotToken: slotTokenOf(context.config) } };
}
