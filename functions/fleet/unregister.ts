import { agentIdListBodySchema, unregisterAgents } from "../../lib/fleet/service.ts";
import { fleetFunction } from "../../lib/fleet/function.ts";
import { httpHandler } from "../../lib/http/handler.ts";

const { deps, logger, callers } = await fleetFunction("fleet_unregister");

export const handler = httpHandler({ name: "fleet_unregister", logger, callers, body: agentIdListBodySchema }, async ({ body }) => ({
  data: await unregisterAgents(deps, body.agent_id_list),
}));
