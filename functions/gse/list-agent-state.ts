import { listAgentState, wantsNoCache } from "../../lib/agent-state/lookup.ts";
import { agentStateDeps } from "../../lib/agent-state/deps.ts";
import { documentClient } from "../../lib/core/aws.ts";
import { sqsClient } from "../../lib/core/queue.ts";
import { gseFunction } from "../../lib/gse/context.ts";
import { gseHandler } from "../../lib/gse/handler.ts";

const context = await gseFunction("list_agent_state");
const deps = agentStateDeps(context, { dynamo: documentClient(), sqs: sqsClient() });

/** GSE's list_agent_state, answered from the agent state cache (lib/agent-state/lookup.ts). */
export const handler = gseHandler(
  "list_agent_state",
  context,
  async ({ body, event }) => (await listAgentState(deps, body, { noCache: wantsNoCache(event.headers) })).data,
);
