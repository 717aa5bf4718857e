import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SQSClient } from "@aws-sdk/client-sqs";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { listAgentState, wantsNoCache } from "../../lib/agent-state/lookup.ts";
import { agentStateDeps } from "../../lib/agent-state/deps.ts";
import { gseFunction, gseHandler } from "../../lib/gse/handler.ts";

const context = await gseFunction("list_agent_state");
const deps = agentStateDeps(context, { dynamo: DynamoDBDocumentClient.from(new DynamoDBClient({})), sqs: new SQSClient({}) });

/** GSE's list_agent_state, answered from the agent state cache (lib/agent-state/lookup.ts). */
export const handler = gseHandler("list_agent_state", context, async ({ body, event }) =>
  (await listAgentState(deps, body, { noCache: wantsNoCache(event.headers) })).data,
);
