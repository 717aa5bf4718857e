import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { agentStateSettings, getAgentStatus, wantsNoCache } from "../../lib/agent-state.ts";
import { tableOf } from "../../lib/config.ts";
import { gseFunction, gseHandler } from "../../lib/gse/handler.ts";
import { DynamoAgentStore } from "../../lib/store/agents.ts";

const context = await gseFunction("get_agent_status");
const store = new DynamoAgentStore({ client: DynamoDBDocumentClient.from(new DynamoDBClient({})), tableName: tableOf(context.config, "agents") });
const deps = { store, gse: context.gse, now: Date.now, settings: agentStateSettings(context.config), logger: context.logger };

/** The legacy ESB get_agent_status (`{"cloud:ip": {ip, bk_cloud_id, bk_agent_alive}}`), from the same cache. */
export const handler = gseHandler("get_agent_status", context, async ({ body, event }) =>
  (await getAgentStatus(deps, body, { noCache: wantsNoCache(event.headers) })).data,
);
