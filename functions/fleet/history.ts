import { z } from "zod";
import { agentHistory, historyQuerySchema } from "../../lib/fleet/service.ts";
import { fleetFunction } from "../../lib/fleet/function.ts";
import { httpHandler, validate } from "../../lib/http/handler.ts";

const { deps, logger, callers } = await fleetFunction("fleet_history");
const pathSchema = z.object({ agent_id: z.string().min(1) });

export const handler = httpHandler({ name: "fleet_history", logger, callers }, async ({ event }) => ({
  data: await agentHistory(deps, validate(pathSchema, event.pathParameters ?? {}).agent_id, validate(historyQuerySchema, event.queryStringParameters ?? {})),
}));
