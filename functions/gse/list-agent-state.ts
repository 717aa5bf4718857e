import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { agentStateSettings, listAgentState, wantsNoCache } from "../../lib/agent-state.ts";
import { tableOf } from "../../lib/config.ts";
import { gseFunction, gseHandler } from "../../lib/gse/handler.ts";
import { DynamoAgentStore } from "../../lib/store/agents.ts";

const context = await gseFunction("list_agent_state");
const store = new DynamoAgentStore({ client: DynamoDBDocumentClient.from(new DynamoDBClient({})), tableName: tableOf(context.config, "agents") });
const deps = { store, gse: context.gse, now: Date.now, settings: agentStateSettings(context.config), logger: context.logger };

/** GSE's list_agent_state, answered from the agent state cache (lib/agent-state.ts). */
export const handler = gseHandler("list_agent_state", context, async ({ body, event }) =>
  (await listAgentState(deps, body, { noCache: wantsNoCache(event.headers) })).data,
);
