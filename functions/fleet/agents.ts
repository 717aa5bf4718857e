import { listAgents, listAgentsQuerySchema } from "../../lib/fleet/service.ts";
import { fleetFunction } from "../../lib/fleet/function.ts";
import { httpHandler, validate } from "../../lib/http/handler.ts";

const { deps, logger, callers } = await fleetFunction("fleet_agents");

export const handler = httpHandler({ name: "fleet_agents", logger, callers }, async ({ event }) => ({
  data: await listAgents(deps, validate(listAgentsQuerySchema, event.queryStringParameters ?? {})),
}));
