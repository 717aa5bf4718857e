/**
 * How the heartbeat is put together in a function: its dependencies from the config and the
 * process's clients, the queue it hands shards to, and the automation job that runs a shard.
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import type { SNSClient } from "@aws-sdk/client-sns";
import { SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { parseJobBody, type JobHandler } from "../automation/jobs.ts";
import { alertsTopicOf, queueUrlOf, tableOf, type Config } from "../core/config.ts";
import type { GseClient } from "../gse/client.ts";
import { FleetStore } from "../fleet/store.ts";
import { heartbeatSettings, heartbeatShardJobSchema, runShard, type HeartbeatDeps, type HeartbeatShardJob } from "./poll.ts";

export function sqsEnqueuer(sqs: SQSClient, queueUrl: string): (job: HeartbeatShardJob) => Promise<void> {
  return async function enqueueHeartbeatShard(job) {
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(job) }));
  };
}

export function heartbeatDeps(
  config: Config,
  clients: { readonly dynamo: DynamoDBDocumentClient; readonly sns: SNSClient; readonly sqs: SQSClient; readonly gse: GseClient; readonly logger: Logger },
): HeartbeatDeps {
  return {
    store: new FleetStore({ client: clients.dynamo, tableName: tableOf(config, "fleet") }),
    gse: clients.gse,
    sns: clients.sns,
    topicArn: alertsTopicOf(config),
    enqueue: sqsEnqueuer(clients.sqs, queueUrlOf(config, "automation")),
    now: Date.now,
    settings: heartbeatSettings(config),
    logger: clients.logger,
  };
}

/** The automation job `heartbeat_shard`: one shard of a poll; a body of the wrong shape can never run. */
export function heartbeatShardJob(deps: HeartbeatDeps): JobHandler {
  return async function runHeartbeatShard(job) {
    await runShard(deps, parseJobBody(heartbeatShardJobSchema, job, "not a heartbeat shard"));
  };
}
