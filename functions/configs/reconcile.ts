import { SNSClient } from "@aws-sdk/client-sns";
import type { ScheduledHandler } from "aws-lambda";
import { alertsTopicOf, getConfig, gseOf, tableOf } from "../../lib/core/config.ts";
import { createAlertPublisher } from "../../lib/core/alerts.ts";
import { documentClient } from "../../lib/core/aws.ts";
import { reconcileAll } from "../../lib/config-versions/reconcile.ts";
import { GseClient } from "../../lib/gse/client.ts";
import { createLogger } from "../../lib/core/logger.ts";
import { ConfigStore } from "../../lib/config-versions/store.ts";
import { FUNCTIONS } from "../../lib/wiring.ts";

const config = await getConfig(FUNCTIONS.config_reconcile.links);
const logger = createLogger("config_reconcile", config.logLevel);
const deps = {
  gse: new GseClient({ gse: gseOf(config), logger }),
  store: new ConfigStore({ client: documentClient(), tableName: tableOf(config, "configs") }),
  alerts: createAlertPublisher({ sns: new SNSClient({}), topicArn: alertsTopicOf(config), logger }),
  logger,
  now: () => Date.now(),
  operator: config.gse.username,
  settings: { pendingTimeoutSeconds: config.configPendingTimeoutSeconds, driftRepair: config.configDriftRepair },
};

/** Scheduled: versions stuck PENDING decided from GSE, then every head checked for drift. */
export const handler: ScheduledHandler = async () => {
  const summary = await reconcileAll(deps);
  logger.info("config reconcile", summary);
};
