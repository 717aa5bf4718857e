import type { ScheduledHandler } from "aws-lambda";
import { alertsTopicOf, queueUrlOf, tableOf } from "../../lib/core/config.ts";
import { sqsClient, sqsSender } from "../../lib/core/queue.ts";
import { configDeps } from "../../lib/config-versions/deps.ts";
import { DEFAULT_APPLY_SETTINGS } from "../../lib/desired/apply-deps.ts";
import { sweepApplies } from "../../lib/desired/sweep.ts";
import { snsClient } from "../../lib/core/sns.ts";
import { createAlertPublisher } from "../../lib/core/alerts.ts";
import { documentClient } from "../../lib/core/aws.ts";
import { reconcileAll } from "../../lib/config-versions/reconcile.ts";
import { flushingMetrics } from "../../lib/core/metrics.ts";
import { gseFunction } from "../../lib/gse/context.ts";
import { ConfigStore } from "../../lib/config-versions/store.ts";
import { driftAsPlans } from "../../lib/desired/drift.ts";
import { planDeps } from "../../lib/desired/plan-deps.ts";

const context = await gseFunction("config_reconcile");
const { config, logger, gse, metrics } = context;
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

// Each platform's last applied desired-state document, planned against GSE: drift reported as a
// plan; and applies a process left mid-way, undone (or their bake's ticks revived).
const sqs = sqsClient();
const desired = {
  ...planDeps(context, { dynamo }),
  alerts: deps.alerts,
  configs: configDeps(context, { dynamo, sqs }),
  queue: sqsSender(sqs, queueUrlOf(config, "automation")),
  settings: DEFAULT_APPLY_SETTINGS,
};

/** Scheduled: versions stuck PENDING decided from GSE, every head checked for drift, then each platform's desired state and unfinished applies. */
export const handler: ScheduledHandler = flushingMetrics(async () => {
  const summary = await reconcileAll(deps);
  const drift = await driftAsPlans(desired);
  const applies = await sweepApplies(desired);
  logger.info("config reconcile", { ...summary, desired: drift, applies });
});
