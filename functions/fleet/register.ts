import { agentIdListBodySchema, registerAgents } from "../../lib/fleet/service.ts";
import { fleetFunction } from "../../lib/fleet/function.ts";
import { httpHandler } from "../../lib/http/handler.ts";

const { deps, logger, callers } = await fleetFunction("fleet_register");

export const handler = httpHandler({ name: "fleet_register", logger, callers, body: agentIdListBodySchema }, async ({ body }) => ({
  data: await registerAgents(deps, body.agent_id_list, "api"),
}));
