/**
 * A heartbeat of its own against the shared stack's real parts: a fresh fleet table in its
 * DynamoDB Local, a fresh alerts topic in its SNS/SQS emulator with a queue subscribed to read
 * what is published, and a GSE client for its simulator. Nothing here touches the stack's own
 * fleet table or topic, which its scheduled heartbeat polls in real time.
 */
import { topicWithInbox, type PublishedMessage } from "./sns-inbox.ts";
import { CreateTableCommand } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { randomBytes } from "node:crypto";
import { GseClient } from "../../lib/gse/client.ts";
import { heartbeatAlertSchema, type HeartbeatAlert } from "../../lib/heartbeat/alerts.ts";
import type { HeartbeatDeps, HeartbeatSettings, HeartbeatShardJob } from "../../lib/heartbeat/poll.ts";
import { TABLES } from "../../lib/resources.ts";
import { FleetStore } from "../../lib/fleet/store.ts";
import type { StackInfo } from "../../local/stack.ts";
import { tableSpec } from "../../local/dynamodb.ts";
import { reserveForRun, simulatorControl, useStack, testGseConfig } from "./stack.ts";

export const TEST_HEARTBEAT_SETTINGS: HeartbeatSettings = {
  chunkSize: 1000,
  concurrency: 4,
  useNewAgentStatusApi: true,
  lostAfterPolls: 3,
  transitionalGraceMs: 15 * 60_000,
  budgetMs: 20_000,
  evictAfterSeconds: 30 * 86_400,
  alertSample: 20,
  alertDedupMs: 3_600_000,
  minVersion: "2.1.0",
  writeConcurrency: 16,
};

export type { PublishedMessage };

export interface TestHeartbeat {
  readonly deps: HeartbeatDeps;
  readonly store: FleetStore;
  /** Shard jobs the poll put on "the queue", in order. */
  readonly queued: HeartbeatShardJob[];
  /** Alerts that reached the subscribed queue since the last call (waits briefly for stragglers); parsed strictly. */
  takeAlerts(): Promise<HeartbeatAlert[]>;
  /** The same, as published: the raw JSON body, the subject and the SNS message attributes (name → value). */
  takeMessages(): Promise<PublishedMessage[]>;
  /** The test's clock; a poll at minute n is at `base + n minutes`. */
  clock: { now: number };
}

/**
 * `options.table`: poll this existing fleet table (the stack's own, for tests of the API) instead
 * of a fresh one.
 */
export async function testHeartbeat(settings: Partial<HeartbeatSettings> = {}, options: { maxAttempts?: number; table?: string } = {}): Promise<TestHeartbeat> {
  const { info, dynamo, sns, sqs } = useStack();
  const name = `hb-${randomBytes(6).toString("hex")}`;
  const tableName = options.table ?? `${name}-fleet`;
  if (options.table === undefined) await dynamo.send(new CreateTableCommand(tableSpec(TABLES.fleet, tableName)));
  const inbox = await topicWithInbox(sns, sqs, `${name}-alerts`);

  const store = new FleetStore({ client: DynamoDBDocumentClient.from(dynamo), tableName });
  const gse = new GseClient({
    gse: testGseConfig(info, { username: info.credentials.gse.username, maxAttempts: options.maxAttempts ?? 2 }),
    sleep: async () => undefined,
  });
  const clock = { now: Date.UTC(2026, 10, 25, 12, 0, 0) };
  const queued: HeartbeatShardJob[] = [];
  const deps: HeartbeatDeps = {
    store,
    gse,
    sns,
    topicArn: inbox.topicArn,
    enqueue: async (job) => void queued.push(job),
    now: () => clock.now,
    settings: { ...TEST_HEARTBEAT_SETTINGS, ...settings },
  };
  const takeMessages = inbox.take;
  return {
    deps,
    store,
    queued,
    clock,
    takeMessages,
    async takeAlerts() {
      return (await takeMessages()).map((m) => heartbeatAlertSchema.parse(m.body));
    },
  };
}

/**
 * Adds `n` agents of this test's own to the simulator (legacy ids in 172.<a>.<b>.0/24, a random
 * block per call, so files running at the same time never share one) and returns their ids. They
 * are exempt from the simulator's status churn: a test sets their status itself.
 */
export async function addSimAgents(
  info: StackInfo,
  n: number,
  fields: { version?: string; status_code?: number } = {},
): Promise<{ ids: string[]; prefix: string }> {
  let prefix: string;
  // Reserved across the run's files: two files on one block meet as "agent … already exists".
  do prefix = `172.${16 + Math.floor(Math.random() * 16)}.${Math.floor(Math.random() * 256)}.`;
  while (!reserveForRun("test-agent-blocks", prefix));
  const agents = Array.from({ length: n }, (_, i) => ({
    ip: `${prefix}${i + 1}`,
    bk_cloud_id: 0,
    version: fields.version ?? "2.1.5",
    status_code: fields.status_code ?? 2,
    churn: false,
  }));
  await simulatorControl(info, "POST", "agents", { agents });
  return { ids: agents.map((a) => `0:${a.ip}`), prefix: `0:${prefix}` };
}

export const setSimStatus = (info: StackInfo, ids: readonly string[], statusCode: number): Promise<unknown> =>
  simulatorControl(info, "POST", "agents/status", { ids, status_code: statusCode });
