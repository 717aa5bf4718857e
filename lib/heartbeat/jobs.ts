/**
 * How the heartbeat is put together in a function: its dependencies from the config and the
 * process's clients, the queue it hands shards to, and the automation job that runs a shard.
 */
import type { SNSClient } from "@aws-sdk/client-sns";
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { parseJobBody, type JobHandler } from "../automation/jobs.ts";
import { alertsTopicOf, queueUrlOf, tableOf } from "../core/config.ts";
import { sqsSender } from "../core/queue.ts";
import type { GseFunctionContext } from "../gse/context.ts";
import { FleetStore } from "../fleet/store.ts";
import { heartbeatSettings, heartbeatShardJobSchema, runShard, type HeartbeatDeps } from "./poll.ts";

export function heartbeatDeps(
  context: GseFunctionContext,
  clients: { readonly dynamo: DynamoDBDocumentClient; readonly sns: SNSClient; readonly sqs: SQSClient },
): HeartbeatDeps {
  const { config } = context;
  const queue = sqsSender(clients.sqs, queueUrlOf(config, "automation"));
  return {
    store: new FleetStore({ client: clients.dynamo, tableName: tableOf(config, "fleet") }),
    gse: context.gse,
    sns: clients.sns,
    topicArn: alertsTopicOf(config),
    enqueue: async function enqueueHeartbeatShard(job) {
      await queue.send(job);
    },
    now: Date.now,
    settings: heartbeatSettings(config),
    logger: context.logger,
    metrics: context.metrics,
  };
}

/** The automation job `heartbeat.shard`: one shard of a poll; a body of the wrong shape can never run. */
export function heartbeatShardJob(deps: HeartbeatDeps): JobHandler {
  return async function runHeartbeatShard(job) {
    await runShard(deps, parseJobBody(heartbeatShardJobSchema, job, "not a heartbeat shard"));
  };
}
