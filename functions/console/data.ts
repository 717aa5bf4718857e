import { alertsTopicOf, callersOf, tableOf } from "../../lib/core/config.ts";
import { functionContext } from "../../lib/core/function.ts";
import { documentClient } from "../../lib/core/aws.ts";
import { snsClient } from "../../lib/core/sns.ts";
import { consoleData, consoleViewer, newestRollouts, type ConsoleDeps } from "../../lib/console/data.ts";
import { fleetSettings } from "../../lib/fleet/deps.ts";
import { checkAlertsTopic } from "../../lib/health.ts";
import { browserAuthenticator } from "../../lib/http/auth.ts";
import { httpHandler } from "../../lib/http/handler.ts";
import { CommandStore } from "../../lib/commands/store.ts";
import { ConfigStore } from "../../lib/config-versions/store.ts";
import { FleetStore } from "../../lib/fleet/store.ts";
import { FleetLog } from "../../lib/fleet/log.ts";
import { RolloutStore } from "../../lib/rollouts/store.ts";
import { listApplies } from "../../lib/desired/applies.ts";
import { DesiredStore } from "../../lib/desired/store.ts";

/** The alerts topic's check may take this long: the page's answer waits for it beside its reads. */
const ALERTS_TOPIC_TIMEOUT_MS = 2000;

const { config, logger } = await functionContext("console_data");
const client = documentClient();
const sns = snsClient();
const topicArn = alertsTopicOf(config);
const fleetTable = tableOf(config, "fleet");
const commands = new CommandStore({ client, tableName: tableOf(config, "commands") });
// Rollouts live in the commands table; their waves' counts come from their commands.
const rollouts = { store: new RolloutStore({ client, tableName: tableOf(config, "commands") }), commands: { store: commands } };
// Desired-state applies live in the configs table.
const desired = new DesiredStore({ client, tableName: tableOf(config, "configs") });
const deps: ConsoleDeps = {
  fleet: { store: new FleetStore({ client, tableName: fleetTable }), now: Date.now, settings: fleetSettings(config), logger },
  log: new FleetLog({ client, tableName: fleetTable }),
  commands,
  rollouts: (limit) => newestRollouts(rollouts, limit),
  applies: async (limit) => (await listApplies(desired, { limit })).applies,
  configs: new ConfigStore({ client, tableName: tableOf(config, "configs") }),
  alertsTopic: () => checkAlertsTopic({ sns, topicArn, timeoutMs: ALERTS_TOPIC_TIMEOUT_MS, now: Date.now }),
  now: Date.now,
};

/**
 * GET /v1/console/data: what the status page shows, in the envelope; never cached. DynamoDB unreadable:
 * 503 DEPENDENCY_UNAVAILABLE whose data is the dependency strip alone.
 */
export const handler = httpHandler({ name: "console_data", logger, authenticate: browserAuthenticator(callersOf(config)) }, async ({ caller }) => ({
  data: { ...(await consoleData(deps)), viewer: consoleViewer(caller) },
  headers: { "cache-control": "no-store" },
}));
