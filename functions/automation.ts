import type { SQSHandler } from "aws-lambda";
import { DynamoAgentStore } from "../lib/agent-state/store.ts";
import { apmWithRollouts } from "../lib/apm/rollout-deps.ts";
import { LEGACY_JOB_TYPES } from "../lib/automation/job-types.ts";
import { createJobRunner } from "../lib/automation/jobs.ts";
import { jobRegistry } from "../lib/jobs.ts";
import { deadLetterAlert } from "../lib/automation/alerts.ts";
import { commandDeps } from "../lib/commands/deps.ts";
import { configDeps } from "../lib/config-versions/deps.ts";
import { createAlertPublisher } from "../lib/core/alerts.ts";
import { applyDeps } from "../lib/desired/deps.ts";
import { documentClient } from "../lib/core/aws.ts";
import { alertsTopicOf, queueUrlOf, tableOf } from "../lib/core/config.ts";
import { sqsClient } from "../lib/core/queue.ts";
import { ParsedBatch, queueRecordSchema } from "../lib/core/records.ts";
import { snsClient } from "../lib/core/sns.ts";
import { fleetSettings } from "../lib/fleet/deps.ts";
import { registerSeen } from "../lib/fleet/service.ts";
import { flushingMetrics } from "../lib/core/metrics.ts";
import { gseFunction } from "../lib/gse/context.ts";
import { heartbeatDeps } from "../lib/heartbeat/jobs.ts";
import { QUEUES } from "../lib/resources.ts";

const context = await gseFunction("automation");
const { config, logger } = context;
const clients = { dynamo: documentClient(), sqs: sqsClient(), sns: snsClient() };
// The record's shape is checked here; its body is the job runner's to read, so an unreadable job is
// dead-lettered at once with its reason rather than retried.
const batch = new ParsedBatch("sqs", queueRecordSchema, logger);
const heartbeat = heartbeatDeps(context, clients);
const commands = commandDeps(context, clients);
const alerts = createAlertPublisher({ sns: clients.sns, topicArn: alertsTopicOf(config), logger, metrics: context.metrics });
const fleet = { store: heartbeat.store, now: Date.now, settings: fleetSettings(config), logger };
// Rollouts, and APM's probe upgrades and datasource actions run as rollouts (probe versions read here).
const { apm, rollouts } = apmWithRollouts(context, clients);
const runJob = createJobRunner({
  jobs: jobRegistry({
    writeBack: {
      store: new DynamoAgentStore({ client: clients.dynamo, tableName: tableOf(config, "agents") }),
      ttlMs: config.agentCacheTtlSeconds * 1000,
      now: Date.now,
      logger,
      // An agent a caller asks about through the GSE routes is one to watch (the fleet's "seen in routes").
      onFirstSeen: (ids) => registerSeen(fleet, ids, "route"),
    },
    heartbeat,
    commands,
    configs: configDeps(context, clients),
    apm,
    rollouts,
    desired: applyDeps(context, clients),
    // A tick may run up to the function's timeout; leave time to hand the rest back to the queue.
    tickBudgetMs: (context.timeoutSeconds - 30) * 1000,
  }),
  aliases: LEGACY_JOB_TYPES,
  sqs: clients.sqs,
  deadLetterQueueUrl: queueUrlOf(config, "automationDlq"),
  logger,
  maxReceiveCount: QUEUES.automation.deadLetter.maxReceiveCount,
  onDeadLetter: (record, reason) => alerts.publish(deadLetterAlert(record, reason, Date.now())),
});

export const handler: SQSHandler = flushingMetrics(async (event, lambdaContext) => {
  const response = await batch.process(event, runJob, lambdaContext);
  logger.info("queue batch", { records: event.Records.length, failed: response.batchItemFailures.length });
  return response;
});
