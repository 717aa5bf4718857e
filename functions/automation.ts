import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import { SNSClient } from "@aws-sdk/client-sns";
import { SQSClient } from "@aws-sdk/client-sqs";
import type { SQSHandler } from "aws-lambda";
import { AGENT_WRITE_BACK_JOB, agentWriteBackJob } from "../lib/agent-state/write-back.ts";
import { deadLetterAlert } from "../lib/automation/alerts.ts";
import { createJobRunner } from "../lib/automation/jobs.ts";
import { commandDeps } from "../lib/commands/deps.ts";
import { COMMAND_RETRY_JOB, COMMAND_TICK_JOB } from "../lib/commands/engine.ts";
import { automationJobs } from "../lib/commands/jobs.ts";
import { apmDeps } from "../lib/apm/deps.ts";
import { apmJobs } from "../lib/apm/jobs.ts";
import { retryJobHandler, tickJobHandler } from "../lib/commands/retry.ts";
import { configDeps } from "../lib/config-versions/deps.ts";
import { createAlertPublisher } from "../lib/core/alerts.ts";
import { documentClient } from "../lib/core/aws.ts";
import { fleetSettings, registerSeen } from "../lib/fleet/service.ts";
import { alertsTopicOf, getConfig, gseOf, queueUrlOf, tableOf } from "../lib/core/config.ts";
import { GseClient } from "../lib/gse/client.ts";
import { heartbeatDeps, heartbeatShardJob } from "../lib/heartbeat/jobs.ts";
import { HEARTBEAT_SHARD_JOB } from "../lib/heartbeat/poll.ts";
import { FUNCTIONS } from "../lib/wiring.ts";
import { QUEUES } from "../lib/resources.ts";
import { createLogger } from "../lib/core/logger.ts";
import { DynamoAgentStore } from "../lib/agent-state/store.ts";

const config = await getConfig(FUNCTIONS.automation.links);
const logger = createLogger("automation", config.logLevel);
const sqs = new SQSClient({});
const dynamo = documentClient();
const gse = new GseClient({ gse: gseOf(config), logger });
const sns = new SNSClient({});
const agents = new DynamoAgentStore({ client: dynamo, tableName: tableOf(config, "agents") });
const processor = new BatchProcessor(EventType.SQS);
const heartbeat = heartbeatDeps(config, {
  dynamo,
  sns,
  sqs,
  gse,
  logger,
});
const commands = commandDeps(config, { dynamo, sqs, gse, logger });
const alerts = createAlertPublisher({ sns, topicArn: alertsTopicOf(config), logger });
// A tick may run up to the function's timeout; leave time to hand the rest back to the queue.
const TICK_BUDGET_MS = (FUNCTIONS.automation.timeoutSeconds - 30) * 1000;
const fleet = { store: heartbeat.store, now: Date.now, settings: fleetSettings(config), logger };
// Job types register here as their capabilities land (delayed command retries, probe jobs).
const runJob = createJobRunner({
  jobs: {
    [AGENT_WRITE_BACK_JOB]: agentWriteBackJob({
      store: agents,
      ttlMs: config.agentCacheTtlSeconds * 1000,
      now: Date.now,
      logger,
      // An agent a caller asks about through the GSE routes is one to watch (issue 11's "seen in routes").
      onFirstSeen: (ids) => registerSeen(fleet, ids, "route"),
    }),
    [HEARTBEAT_SHARD_JOB]: heartbeatShardJob(heartbeat),
    [COMMAND_RETRY_JOB]: retryJobHandler(commands),
    [COMMAND_TICK_JOB]: tickJobHandler(commands, TICK_BUDGET_MS),
    ...automationJobs({ commands, configs: configDeps({ config, logger, gse }, dynamo) }),
    ...apmJobs(apmDeps(config, { dynamo, gse, logger, sqs, sns })),
  },
  sqs,
  deadLetterQueueUrl: queueUrlOf(config, "automationDlq"),
  logger,
  maxReceiveCount: QUEUES.automation.deadLetter.maxReceiveCount,
  onDeadLetter: (record, reason) => alerts.publish(deadLetterAlert(record, reason, Date.now())),
});

export const handler: SQSHandler = async (event, context) => {
  const response = await processPartialResponse(event, runJob, processor, { context });
  logger.info("queue batch", { records: event.Records.length, failed: response.batchItemFailures.length });
  return response;
};
