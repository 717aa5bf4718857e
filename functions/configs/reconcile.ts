import type { ScheduledHandler } from "aws-lambda";
import { alertsTopicOf, tableOf } from "../../lib/core/config.ts";
import { snsClient } from "../../lib/core/sns.ts";
import { createAlertPublisher } from "../../lib/core/alerts.ts";
import { documentClient } from "../../lib/core/aws.ts";
import { reconcileAll } from "../../lib/config-versions/reconcile.ts";
import { flushingMetrics } from "../../lib/core/metrics.ts";
import { gseFunction } from "../../lib/gse/context.ts";
import { ConfigStore } from "../../lib/config-versions/store.ts";

const { config, logger, gse, metrics } = await gseFunction("config_reconcile");
const deps = {
  gse,
  store: new ConfigStore({ client: documentClient(), tableName: tableOf(config, "configs") }),
  alerts: createAlertPublisher({ sns: snsClient(), topicArn: alertsTopicOf(config), logger, metrics }),
  metrics,
  logger,
  now: () => Date.now(),
  operator: config.gse.username,
  settings: { pendingTimeoutSeconds: config.configPendingTimeoutSeconds, driftRepair: config.configDriftRepair },
};

/** Scheduled: versions stuck PENDING decided from GSE, then every head checked for drift. */
export const handler: ScheduledHandler = flushingMetrics(async () => {
  const summary = await reconcileAll(deps);
  logger.info("config reconcile", summary);
});
