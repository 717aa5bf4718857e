import { agentPathSchema, putLabelsBodySchema } from "../../lib/fleet/schemas.ts";
import { putLabels } from "../../lib/fleet/labels.ts";
import { documentClient } from "../../lib/core/aws.ts";
import { callersOf } from "../../lib/core/config.ts";
import { functionContext } from "../../lib/core/function.ts";
import { fleetDeps } from "../../lib/fleet/deps.ts";
import { httpHandler, validate } from "../../lib/http/handler.ts";

const context = await functionContext("fleet_labels_put");
const { config, logger } = context;
const deps = fleetDeps(context, { dynamo: documentClient() });

export const handler = httpHandler({ name: "fleet_labels_put", logger, callers: callersOf(config), body: putLabelsBodySchema }, async ({ event, body }) => ({
  data: await putLabels(deps, validate(agentPathSchema, event.pathParameters ?? {}).agent_id, body.labels),
}));
