import type { SQSClient } from "@aws-sdk/client-sqs";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { agentStateSettings, type AgentStateDeps } from "./lookup-run.ts";
import { QueueWriteBehind } from "./write-back.ts";
import { queueUrlOf, tableOf } from "../core/config.ts";
import { sqsSender } from "../core/queue.ts";
import type { GseFunctionContext } from "../gse/context.ts";
import { AgentMemo } from "./memo.ts";
import { DynamoAgentStore } from "./store.ts";

/**
 * What list_agent_state and get_agent_status build at cold start: the table, this instance's
 * memo, and the write-behind queue (the automation queue, which both link).
 */
export function agentStateDeps(context: GseFunctionContext, clients: { readonly dynamo: DynamoDBDocumentClient; readonly sqs: SQSClient }): AgentStateDeps {
  const { config } = context;
  return {
    store: new DynamoAgentStore({ client: clients.dynamo, tableName: tableOf(config, "agents") }),
    gse: context.gse,
    now: Date.now,
    settings: agentStateSettings(config),
    logger: context.logger,
    metrics: context.metrics,
    memo: new AgentMemo({ maxItems: config.agentMemoMaxItems, maxAgeMs: config.agentMemoSeconds * 1000, now: Date.now }),
    writeBehind: new QueueWriteBehind(sqsSender(clients.sqs, queueUrlOf(config, "automation"))),
  };
}
