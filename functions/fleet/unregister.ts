import { agentIdListBodySchema, unregisterAgents } from "../../lib/fleet/service.ts";
import { documentClient } from "../../lib/core/aws.ts";
import { callersOf } from "../../lib/core/config.ts";
import { functionContext } from "../../lib/core/function.ts";
import { fleetDeps } from "../../lib/fleet/deps.ts";
import { httpHandler } from "../../lib/http/handler.ts";

const context = await functionContext("fleet_unregister");
const { config, logger } = context;
const deps = fleetDeps(context, { dynamo: documentClient() });

export const handler = httpHandler({ name: "fleet_unregister", logger, callers: callersOf(config), body: agentIdListBodySchema }, async ({ body }) => ({
  data: await unregisterAgents(deps, body.agent_id_list),
}));
