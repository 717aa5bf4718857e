import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { tableOf } from "../core/config.ts";
import type { FunctionContext } from "../core/function.ts";
import { fleetSettings, type FleetDeps } from "./service.ts";
import { FleetStore } from "./store.ts";

/** What a /fleet route's function builds once at cold start: the fleet table and its settings. */
export function fleetDeps(context: FunctionContext, clients: { readonly dynamo: DynamoDBDocumentClient }): FleetDeps {
  const { config } = context;
  return {
    store: new FleetStore({ client: clients.dynamo, tableName: tableOf(config, "fleet") }),
    now: Date.now,
    settings: fleetSettings(config),
    logger: context.logger,
  };
}
