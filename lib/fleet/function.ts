import type { Logger } from "@aws-lambda-powertools/logger";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { callersOf, getConfig, tableOf, type Caller } from "../core/config.ts";
import { fleetSettings, type FleetDeps } from "./service.ts";
import { createLogger } from "../core/logger.ts";
import { FleetStore } from "./store.ts";
import { FUNCTIONS, type FunctionKey } from "../wiring.ts";

export interface FleetFunctionContext {
  readonly deps: FleetDeps;
  readonly logger: Logger;
  readonly callers: readonly Caller[];
}

/** What every /fleet route's function builds once at cold start and keeps for warm invocations. */
export async function fleetFunction(name: FunctionKey & `fleet_${string}`): Promise<FleetFunctionContext> {
  const config = await getConfig(FUNCTIONS[name].links);
  const logger = createLogger(name, config.logLevel);
  const store = new FleetStore({ client: DynamoDBDocumentClient.from(new DynamoDBClient({})), tableName: tableOf(config, "fleet") });
  return { deps: { store, now: Date.now, settings: fleetSettings(config), logger }, logger, callers: callersOf(config) };
}
