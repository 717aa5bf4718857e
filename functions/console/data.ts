import { callersOf, getConfig, tableOf } from "../../lib/config.ts";
import { documentClient } from "../../lib/config-versions/dynamo.ts";
import { consoleData } from "../../lib/console/data.ts";
import { fleetSettings } from "../../lib/fleet.ts";
import { browserAuthenticator } from "../../lib/http/auth.ts";
import { httpHandler } from "../../lib/http/handler.ts";
import { createLogger } from "../../lib/logger.ts";
import { CommandStore } from "../../lib/store/commands.ts";
import { ConfigStore } from "../../lib/store/configs.ts";
import { FleetStore } from "../../lib/store/fleet.ts";
import { FleetLog } from "../../lib/store/fleet-log.ts";
import { FUNCTIONS } from "../../lib/wiring.ts";

const config = await getConfig(FUNCTIONS.console_data.links);
const logger = createLogger("console_data", config.logLevel);
const client = documentClient();
const fleetTable = tableOf(config, "fleet");
const deps = {
  fleet: { store: new FleetStore({ client, tableName: fleetTable }), now: Date.now, settings: fleetSettings(config), logger },
  log: new FleetLog({ client, tableName: fleetTable }),
  commands: new CommandStore({ client, tableName: tableOf(config, "commands") }),
  configs: new ConfigStore({ client, tableName: tableOf(config, "configs") }),
  now: Date.now,
};

/** GET /console/data: what the status page shows, in the envelope; never cached. */
export const handler = httpHandler({ name: "console_data", logger, authenticate: browserAuthenticator(callersOf(config)) }, async () => ({
  data: await consoleData(deps),
  headers: { "cache-control": "no-store" },
}));
