/**
 * Desired-state tests against the shared stack: a pipeline document of the test's own, an apply
 * engine wired to the stack's configs table, GSE simulator and alerts topic, with a heartbeat of
 * its own (./heartbeat.ts: its fleet table and clock) for the bake gate, and the jobs it queues
 * kept for the test to run.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { createAlertPublisher } from "../../lib/core/alerts.ts";
import type { QueueSender } from "../../lib/core/queue.ts";
import type { ApplyDeps } from "../../lib/desired/deps.ts";
import type { DesiredDocumentInput } from "../../lib/desired/schemas.ts";
import { DesiredStore } from "../../lib/desired/store.ts";
import { runShard, startPoll } from "../../lib/heartbeat/poll.ts";
import { configStore, directGse, libDeps } from "./configs.ts";
import { testHeartbeat, type TestHeartbeat } from "./heartbeat.ts";
import { uniqueBuiltInChannelId, useStack } from "./stack.ts";

/** 2 stream_tos and 3 routes of a test's own (names and channels unique to `run` and `tag`); the stream_tos carry passwords. */
export function pipeline(tag: string, run: string, platName = "bkmonitor"): DesiredDocumentInput {
  const kafka = `kafka-${tag}-${run}`;
  const redis = `redis-${tag}-${run}`;
  const [a, b, c] = [uniqueBuiltInChannelId(), uniqueBuiltInChannelId(), uniqueBuiltInChannelId()];
  return {
    plat_name: platName,
    stream_tos: [
      { name: kafka, report_mode: "kafka", kafka: { storage_address: [{ ip: "10.0.0.1", port: 9092 }], sasl_username: "u", sasl_passwd: `pw-${run}` } },
      { name: redis, report_mode: "redis", redis: { storage_address: [{ ip: "10.0.0.2", port: 6379 }], passwd: `rpw-${run}` } },
    ],
    routes: [
      { channel_id: a, route: [{ name: `r-${a}`, stream_to: { name: kafka, kafka: { topic_name: `t-${a}` } } }] },
      { channel_id: b, route: [{ name: `r-${b}`, stream_to: { name: kafka, kafka: { topic_name: `t-${b}` } } }] },
      { channel_id: c, route: [{ name: `r-${c}`, stream_to: { name: redis, redis: { channel_name: `c-${c}` } } }] },
    ],
  };
}

export interface ApplyHarness {
  readonly deps: ApplyDeps;
  readonly hb: TestHeartbeat;
  /** The apply's clock (the heartbeat's): bakes end when the test moves it. */
  readonly clock: { now: number };
  /** Jobs the apply put on "the automation queue", in order. */
  readonly jobs: { job: Record<string, unknown>; delaySeconds: number | undefined }[];
  /** One heartbeat poll at the clock's time. */
  poll(): Promise<void>;
}

/** `logger`: the one the apply and its versioned changes log with (default silent). */
export async function applyHarness(options: { logger?: Logger } = {}): Promise<ApplyHarness> {
  const { info, dynamo, sns } = useStack();
  const hb = await testHeartbeat({ lostAfterPolls: 1 });
  const clock = hb.clock;
  clock.now = Date.now();
  const logger = options.logger ?? new Logger({ logLevel: "SILENT" });
  const jobs: ApplyHarness["jobs"] = [];
  const queue: QueueSender = {
    send: async (job, delaySeconds) => void jobs.push({ job: { ...job }, delaySeconds }),
    sendBody: async (body, sendOptions) => void jobs.push({ job: JSON.parse(body) as Record<string, unknown>, delaySeconds: sendOptions?.delaySeconds }),
    sendBodies: async (bodies) => void jobs.push(...bodies.map((body) => ({ job: JSON.parse(body) as Record<string, unknown>, delaySeconds: undefined }))),
  };
  const deps: ApplyDeps = {
    gse: directGse(info),
    store: new DesiredStore({
      client: DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } }),
      tableName: info.tables.configs,
    }),
    operator: "admin",
    now: () => clock.now,
    logger,
    configs: {
      ...libDeps(configStore(info, dynamo), directGse(info), { logger }),
      settings: { pendingAddTtlSeconds: 3600, idempotencyTtlSeconds: 3600, dedupeWindowSeconds: 0, inProgressTimeoutSeconds: 60 },
    },
    fleet: hb.store,
    alerts: createAlertPublisher({ sns, topicArn: info.alertsTopicArn }),
    queue,
    settings: { bakeTickMs: 15_000 },
  };
  return {
    deps,
    hb,
    clock,
    jobs,
    async poll() {
      await startPoll(hb.deps, clock.now);
      while (hb.queued.length > 0) await runShard(hb.deps, hb.queued.shift()!);
    },
  };
}
