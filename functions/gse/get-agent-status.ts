import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SQSClient } from "@aws-sdk/client-sqs";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { getAgentStatus, wantsNoCache } from "../../lib/agent-state/lookup.ts";
import { agentStateDeps } from "../../lib/agent-state/deps.ts";
import { gseFunction, gseHandler } from "../../lib/gse/handler.ts";

const context = await gseFunction("get_agent_status");
const deps = agentStateDeps(context, { dynamo: DynamoDBDocumentClient.from(new DynamoDBClient({})), sqs: new SQSClient({}) });

/** The legacy ESB get_agent_status (`{"cloud:ip": {ip, bk_cloud_id, bk_agent_alive}}`), from the same cache. */
export const handler = gseHandler("get_agent_status", context, async ({ body, event }) =>
  (await getAgentStatus(deps, body, { noCache: wantsNoCache(event.headers) })).data,
);
