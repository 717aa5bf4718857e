import type { ScheduledHandler } from "aws-lambda";
import { alertsTopicOf, tableOf } from "../../lib/core/config.ts";
import { snsClient } from "../../lib/core/sns.ts";
import { createAlertPublisher } from "../../lib/core/alerts.ts";
import { documentClient } from "../../lib/core/aws.ts";
import { reconcileAll } from "../../lib/config-versions/reconcile.ts";
import { flushingMetrics } from "../../lib/core/metrics.ts";
import { gseFunction } from "../../lib/gse/context.ts";
import { ConfigStore } from "../../lib/config-versions/store.ts";
import { driftAsPlans } from "../../lib/desired/drift.ts";
import { DesiredStore } from "../../lib/desired/store.ts";

const { config, logger, gse, metrics } = await gseFunction("config_reconcile");
const dynamo = documentClient();
const deps = {
  gse,
  store: new ConfigStore({ client: dynamo, tableName: tableOf(config, "configs") }),
  alerts: createAlertPublisher({ sns: snsClient(), topicArn: alertsTopicOf(config), logger, metrics }),
  metrics,
  logger,
  now: () => Date.now(),
  operator: config.gse.username,
  settings: { pendingTimeoutSeconds: config.configPendingTimeoutSeconds, driftRepair: config.configDriftRepair },
};

// Each platform's last applied desired-state document, planned against GSE: drift reported as a plan.
const desired = {
  gse,
  store: new DesiredStore({ client: dynamo, tableName: tableOf(config, "configs") }),
  alerts: deps.alerts,
  operator: config.gse.username,
  now: Date.now,
  logger,
};

/** Scheduled: versions stuck PENDING decided from GSE, every head checked for drift, then each platform's desired state. */
export const handler: ScheduledHandler = flushingMetrics(async () => {
  const summary = await reconcileAll(deps);
  const drift = await driftAsPlans(desired);
  logger.info("config reconcile", { ...summary, desired: drift });
});
