import type { Logger } from "@aws-lambda-powertools/logger";
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { agentStateSettings, type AgentStateDeps } from "./lookup-run.ts";
import { SqsWriteBehind } from "./write-back.ts";
import { queueUrlOf, tableOf, type Config } from "../core/config.ts";
import type { GseClient } from "../gse/client.ts";
import { AgentMemo } from "./memo.ts";
import { DynamoAgentStore } from "./store.ts";

/**
 * What list_agent_state and get_agent_status build at cold start: the table, this instance's
 * memo, and the write-behind queue (the automation queue, which both link).
 */
export function agentStateDeps(context: { config: Config; gse: GseClient; logger: Logger }, clients: { dynamo: DynamoDBDocumentClient; sqs: SQSClient }): AgentStateDeps {
  const { config } = context;
  return {
    store: new DynamoAgentStore({ client: clients.dynamo, tableName: tableOf(config, "agents") }),
    gse: context.gse,
    now: Date.now,
    settings: agentStateSettings(config),
    logger: context.logger,
    memo: new AgentMemo({ maxItems: config.agentMemoMaxItems, maxAgeMs: config.agentMemoSeconds * 1000, now: Date.now }),
    writeBehind: new SqsWriteBehind(clients.sqs, queueUrlOf(config, "automation")),
  };
}
