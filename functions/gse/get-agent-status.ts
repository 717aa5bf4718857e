import { getAgentStatus, wantsNoCache } from "../../lib/agent-state/lookup.ts";
import { agentStateDeps } from "../../lib/agent-state/deps.ts";
import { documentClient } from "../../lib/core/aws.ts";
import { sqsClient } from "../../lib/core/queue.ts";
import { gseFunction } from "../../lib/gse/context.ts";
import { gseHandler } from "../../lib/gse/handler.ts";

const context = await gseFunction("get_agent_status");
const deps = agentStateDeps(context, { dynamo: documentClient(), sqs: sqsClient() });

/** The legacy ESB get_agent_status (`{"cloud:ip": {ip, bk_cloud_id, bk_agent_alive}}`), from the same cache. */
export const handler = gseHandler(
  "get_agent_status",
  context,
  async ({ body, event }) => (await getAgentStatus(deps, body, { noCache: wantsNoCache(event.headers) })).data,
);
