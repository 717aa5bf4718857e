import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { tableOf, type Config } from "../core/config.ts";
import type { FunctionContext } from "../core/function.ts";
import type { FleetDeps, FleetSettings } from "./service.ts";
import { FleetStore } from "./store.ts";

// Here, not in lib/fleet/service.ts: the label routes build their store with fleetDeps and need
// nothing of the fleet view, which would bring its rules (semver among them) into their bundles.
export const fleetSettings = (config: Config): FleetSettings => ({
  evictAfterSeconds: config.heartbeat.evictAfterDays * 86_400,
  ...(config.heartbeat.minVersion !== undefined ? { minVersion: config.heartbeat.minVersion } : {}),
});

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
