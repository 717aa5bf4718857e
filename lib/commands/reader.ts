/**
 * The commands table alone, for a function that only lists (commands, upstream messages): apart from
 * lib/commands/view-deps.ts so such a function links neither the queue nor GSE, and bundles neither client.
 */
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { tableOf } from "../core/config.ts";
import type { FunctionContext } from "../core/function.ts";
import { CommandStore } from "./store.ts";

export const commandReader = (context: FunctionContext, dynamo: DynamoDBDocumentClient): CommandStore =>
  new CommandStore({ client: dynamo, tableName: tableOf(context.config, "commands") });
