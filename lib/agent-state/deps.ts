import type { SQSClient } from "@aws-sdk/client-sqs";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { agentStateSettings, type AgentStateDeps } from "./lookup-run.ts";
import { QueueWriteBehind } from "./write-back.ts";
import { queueUrlOf, tableOf } from "../core/config.ts";
import { sqsSender } from "../core/queue.ts";
import type { GseFunctionContext } from "../gse/context.ts";
import { DynamoFleetState, FLEET_POLLED_MAX_AGE_MS } from "./fleet-state.ts";
import { AgentMemo } from "./memo.ts";
import { DynamoAgentStore } from "./store.ts";

/**
 * What list_agent_state and get_agent_status build at cold start: the agents table, the fleet
 * table (read only), this instance's memo, and the write-behind queue (the automation queue, which
 * both link).
 */
export function agentStateDeps(context: GseFunctionContext, clients: { readonly dynamo: DynamoDBDocumentClient; readonly sqs: SQSClient }): AgentStateDeps {
  const { config } = context;
  return {
    store: new DynamoAgentStore({ client: clients.dynamo, tableName: tableOf(config, "agents") }),
    fleet: new DynamoFleetState({
      client: clients.dynamo,
      tableName: tableOf(config, "fleet"),
      // The poll times are kept no longer than memo copies: with the memo off, every lookup reads them.
      polledMaxAgeMs: Math.min(FLEET_POLLED_MAX_AGE_MS, config.agentMemoSeconds * 1000),
      now: Date.now,
    }),
    gse: context.gse,
    now: Date.now,
    settings: agentStateSettings(config),
    logger: context.logger,
    metrics: context.metrics,
    memo: new AgentMemo({ maxItems: config.agentMemoMaxItems, maxAgeMs: config.agentMemoSeconds * 1000, now: Date.now }),
    writeBehind: new QueueWriteBehind(sqsSender(clients.sqs, queueUrlOf(config, "automation"))),
  };
}
