import { fleetSummary } from "../../lib/fleet/service.ts";
import { documentClient } from "../../lib/core/aws.ts";
import { callersOf } from "../../lib/core/config.ts";
import { functionContext } from "../../lib/core/function.ts";
import { fleetDeps } from "../../lib/fleet/deps.ts";
import { httpHandler } from "../../lib/http/handler.ts";

const context = await functionContext("fleet_summary");
const { config, logger } = context;
const deps = fleetDeps(context, { dynamo: documentClient() });

/** The fleet as of the last completed heartbeat poll; `data: null` before the first one. */
export const handler = httpHandler({ name: "fleet_summary", logger, callers: callersOf(config) }, async () => ({ data: await fleetSummary(deps) }));
