import { agentPathSchema, patchLabelsBodySchema } from "../../lib/fleet/schemas.ts";
import { patchLabels } from "../../lib/fleet/labels.ts";
import { documentClient } from "../../lib/core/aws.ts";
import { callersOf } from "../../lib/core/config.ts";
import { functionContext } from "../../lib/core/function.ts";
import { fleetDeps } from "../../lib/fleet/deps.ts";
import { httpHandler, validate } from "../../lib/http/handler.ts";

const context = await functionContext("fleet_labels_patch");
const { config, logger } = context;
const deps = fleetDeps(context, { dynamo: documentClient() });

export const handler = httpHandler(
  { name: "fleet_labels_patch", logger, callers: callersOf(config), body: patchLabelsBodySchema },
  async ({ event, body }) => ({
    data: await patchLabels(deps, validate(agentPathSchema, event.pathParameters ?? {}).agent_id, body),
  }),
);
