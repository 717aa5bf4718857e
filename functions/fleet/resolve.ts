import { RESOLVE_PREVIEW_IDS, resolveBodySchema } from "../../lib/fleet/resolve-schemas.ts";
import { resolveTargets } from "../../lib/targets/resolve.ts";
import { documentClient } from "../../lib/core/aws.ts";
import { callersOf, tableOf } from "../../lib/core/config.ts";
import { functionContext } from "../../lib/core/function.ts";
import { FleetAgentRecords } from "../../lib/fleet/agents-store.ts";
import { httpHandler } from "../../lib/http/handler.ts";

const context = await functionContext("fleet_resolve");
const { config, logger } = context;
// Agent pages are all a preview reads: the agents' records, not lib/fleet/deps.ts's FleetStore with
// the heartbeat's meta items, poll marks and alert outbox.
const fleet = new FleetAgentRecords({ client: documentClient(), tableName: tableOf(config, "fleet") });

// A preview of what a command or rollout by this query would be sent to (and the same 400 when nobody).
export const handler = httpHandler({ name: "fleet_resolve", logger, callers: callersOf(config), body: resolveBodySchema }, async ({ body }) => {
  const { agent_ids } = await resolveTargets({ fleet }, body.query);
  return { data: { count: agent_ids.length, agent_ids: agent_ids.slice(0, RESOLVE_PREVIEW_IDS), truncated: agent_ids.length > RESOLVE_PREVIEW_IDS } };
});
