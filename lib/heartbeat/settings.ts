/** The heartbeat's settings (from the config, checked at cold start) and what a poll is given. */
import type { Logger } from "@aws-lambda-powertools/logger";
import type { SNSClient } from "@aws-sdk/client-sns";
import type { Config } from "../core/config.ts";
import type { MetricsRecorder } from "../core/metrics.ts";
import type { FleetStore } from "../fleet/store.ts";
import type { GseClient } from "../gse/client.ts";
import type { FleetCache } from "./fleet-cache.ts";
import type { HeartbeatShardJob } from "./shard-job.ts";

/** GSE answers at most 1000 ids per list_agent_state call. */
export const MAX_CHUNK = 1000;

export interface HeartbeatSettings {
  readonly chunkSize: number;
  readonly concurrency: number;
  readonly useNewAgentStatusApi: boolean;
  readonly lostAfterPolls: number;
  /** How long an agent may stay transitional before it is stuck (HEARTBEAT_TRANSITIONAL_GRACE_MINUTES). */
  readonly transitionalGraceMs: number;
  readonly budgetMs: number;
  readonly evictAfterSeconds: number;
  readonly alertSample: number;
  readonly alertDedupMs: number;
  readonly minVersion?: string;
  /** Conditional writes in flight per shard. */
  readonly writeConcurrency: number;
}

export const heartbeatSettings = (config: Config): HeartbeatSettings => ({
  chunkSize: Math.min(config.gse.agentChunkSize, MAX_CHUNK),
  concurrency: config.gse.concurrency,
  useNewAgentStatusApi: config.gse.useNewAgentStatusApi,
  lostAfterPolls: config.heartbeat.lostAfterPolls,
  transitionalGraceMs: config.heartbeat.transitionalGraceMinutes * 60_000,
  budgetMs: config.heartbeat.budgetSeconds * 1000,
  evictAfterSeconds: config.heartbeat.evictAfterDays * 86_400,
  alertSample: config.heartbeat.alertSample,
  alertDedupMs: config.heartbeat.alertDedupMinutes * 60_000,
  ...(config.heartbeat.minVersion !== undefined ? { minVersion: config.heartbeat.minVersion } : {}),
  writeConcurrency: 16,
});

/** A budget that does not leave the function time to finish after it is a deployment mistake. */
export function assertBudgetFits(settings: Pick<HeartbeatSettings, "budgetMs">, timeoutSeconds: number): void {
  if (settings.budgetMs > 0.8 * timeoutSeconds * 1000) {
    throw new Error(`HEARTBEAT_BUDGET_SECONDS (${settings.budgetMs / 1000}) must stay below 80 % of the heartbeat timeout (${timeoutSeconds} s)`);
  }
}

export interface HeartbeatDeps {
  readonly store: FleetStore;
  readonly gse: Pick<GseClient, "call">;
  readonly sns: SNSClient;
  readonly topicArn: string;
  /** Puts a shard job on the automation queue. */
  readonly enqueue: (job: HeartbeatShardJob) => Promise<void>;
  readonly now: () => number;
  readonly settings: HeartbeatSettings;
  readonly logger?: Logger;
  /** HeartbeatTransitions, HeartbeatPollDuration and the alerts published; dropped when absent. */
  readonly metrics?: MetricsRecorder;
  /** The fleet as this instance last read it; by default the instance's own for the store's table (fleet-cache.ts). */
  readonly fleetCache?: FleetCache;
}
