import { fleetSummary } from "../../lib/fleet/service.ts";
import { fleetFunction } from "../../lib/fleet/function.ts";
import { httpHandler } from "../../lib/http/handler.ts";

const { deps, logger, callers } = await fleetFunction("fleet_summary");

/** The fleet as of the last completed heartbeat poll; `data: null` before the first one. */
export const handler = httpHandler({ name: "fleet_summary", logger, callers }, async () => ({ data: await fleetSummary(deps) }));
