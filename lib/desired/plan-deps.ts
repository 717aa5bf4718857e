/**
 * What making a plan reads, built from a function's links: GSE and the configs table only. Apart
 * from deps.ts (an apply's deps: fleet table, topic, queue) so the functions that only plan, or
 * only check drift, reach nothing more.
 */
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { tableOf } from "../core/config.ts";
import type { GseFunctionContext } from "../gse/context.ts";
import type { PlanDeps } from "./plans.ts";
import { DesiredStore } from "./store.ts";

export function planDeps(context: GseFunctionContext, clients: { readonly dynamo: DynamoDBDocumentClient }): PlanDeps {
  const { config, logger } = context;
  return {
    gse: context.gse,
    store: new DesiredStore({ client: clients.dynamo, tableName: tableOf(config, "configs") }),
    operator: config.gse.username,
    now: Date.now,
    logger,
  };
}
