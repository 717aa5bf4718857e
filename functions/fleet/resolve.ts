import { RESOLVE_PREVIEW_IDS, resolveBodySchema } from "../../lib/fleet/resolve-schemas.ts";
import { resolveTargets } from "../../lib/targets/resolve.ts";
import { documentClient } from "../../lib/core/aws.ts";
import { callersOf } from "../../lib/core/config.ts";
import { functionContext } from "../../lib/core/function.ts";
import { fleetDeps } from "../../lib/fleet/deps.ts";
import { httpHandler } from "../../lib/http/handler.ts";

const context = await functionContext("fleet_resolve");
const { config, logger } = context;
const { store } = fleetDeps(context, { dynamo: documentClient() });

// A preview of what a command or rollout by this query would be sent to (and the same 400 when nobody).
export const handler = httpHandler({ name: "fleet_resolve", logger, callers: callersOf(config), body: resolveBodySchema }, async ({ body }) => {
  const { agent_ids } = await resolveTargets({ fleet: store }, body.query);
  return { data: { count: agent_ids.length, agent_ids: agent_ids.slice(0, RESOLVE_PREVIEW_IDS), truncated: agent_ids.length > RESOLVE_PREVIEW_IDS } };
});
