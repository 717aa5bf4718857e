import { agentHistory, agentPathSchema, historyQuerySchema } from "../../lib/fleet/service.ts";
import { documentClient } from "../../lib/core/aws.ts";
import { callersOf } from "../../lib/core/config.ts";
import { functionContext } from "../../lib/core/function.ts";
import { fleetDeps } from "../../lib/fleet/deps.ts";
import { httpHandler, validate } from "../../lib/http/handler.ts";

const context = await functionContext("fleet_history");
const { config, logger } = context;
const deps = fleetDeps(context, { dynamo: documentClient() });

export const handler = httpHandler({ name: "fleet_history", logger, callers: callersOf(config) }, async ({ event }) => ({
  data: await agentHistory(
    deps,
    validate(agentPathSchema, event.pathParameters ?? {}).agent_id,
    validate(historyQuerySchema, event.queryStringParameters ?? {}),
  ),
}));
