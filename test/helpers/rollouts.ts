/**
 * A rollout engine of a test's own against the shared stack's real parts: a commands table of its
 * own in DynamoDB Local, a heartbeat of its own (./heartbeat.ts: its fleet table and alerts topic)
 * polling the GSE simulator, which delivers the waves. One test clock drives the rollout, its
 * commands and the heartbeat, so bake times and "seen after the reply" are exact; the queue is the
 * test's, which runs the command ticks and leaves the rollout ticks to the test.
 */
import { CreateTableCommand } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { randomBytes } from "node:crypto";
import { tickJobHandler } from "../../lib/commands/retry.ts";
import { COMMAND_TICK_JOB, type CommandDeps, type CommandSettings } from "../../lib/commands/settings.ts";
import { CommandStore } from "../../lib/commands/store.ts";
import { createAlertPublisher } from "../../lib/core/alerts.ts";
import { GseClient } from "../../lib/gse/client.ts";
import { runShard, startPoll } from "../../lib/heartbeat/poll.ts";
import { TABLES } from "../../lib/resources.ts";
import { getRollout } from "../../lib/rollouts/api.ts";
import type { RolloutDeps } from "../../lib/rollouts/deps.ts";
import { tickRollout } from "../../lib/rollouts/engine.ts";
import type { RolloutView } from "../../lib/rollouts/schemas.ts";
import { RolloutStore } from "../../lib/rollouts/store.ts";
import { TemplateStore } from "../../lib/templates/store.ts";
import { tableSpec } from "../../local/dynamodb.ts";
import { TEST_COMMAND_SETTINGS } from "./command-engine.ts";
import { sqsRecord } from "./events.ts";
import { testHeartbeat, type TestHeartbeat } from "./heartbeat.ts";
import { testGseConfig, useStack } from "./stack.ts";

export const ROLLOUT_TEST_COMMAND_SETTINGS: CommandSettings = { ...TEST_COMMAND_SETTINGS, maxAttempts: 1 };

export interface RolloutHarness {
  readonly deps: RolloutDeps;
  readonly hb: TestHeartbeat;
  readonly clock: { now: number };
  /** Every job put on "the queue", in order; drain() takes the command ticks out. */
  readonly jobs: Record<string, unknown>[];
  /** Runs the command ticks queued so far, at most `maxJobs` (a command waiting for replies re-queues its watchdog). */
  drain(maxJobs?: number): Promise<void>;
  /** One heartbeat poll at the clock's time. */
  poll(): Promise<void>;
  /** Ticks the rollout, the queued command ticks in between, advancing the clock `stepMs` each time, until `done`. */
  driveUntil(id: string, done: (view: RolloutView) => boolean, stepMs?: number): Promise<RolloutView>;
}

/** A fresh commands table per call: tests do not see each other's rollouts. `extra`: deps of the caller's own (probe reports). */
export async function rolloutHarness(extra: Pick<RolloutDeps, "probeVersions"> = {}): Promise<RolloutHarness> {
  const { info, dynamo } = useStack();
  const tableName = `rollouts-${randomBytes(6).toString("hex")}`;
  await dynamo.send(new CreateTableCommand(tableSpec(TABLES.commands, tableName)));
  const client = DynamoDBDocumentClient.from(dynamo);
  const hb = await testHeartbeat({ lostAfterPolls: 1 });
  const clock = hb.clock;
  clock.now = Date.now();
  const jobs: Record<string, unknown>[] = [];
  const queue = { send: async (job: Readonly<Record<string, unknown>> & { type: string }) => void jobs.push({ ...job }) };
  const commands: CommandDeps = {
    store: new CommandStore({ client, tableName }),
    gse: new GseClient({ gse: testGseConfig(info), sleep: async () => undefined }),
    slot: { slotId: info.credentials.gse.slotId, slotToken: info.credentials.gse.slotToken },
    queue,
    settings: ROLLOUT_TEST_COMMAND_SETTINGS,
    now: () => clock.now,
    random: () => 0.5,
  };
  const deps: RolloutDeps = {
    store: new RolloutStore({ client, tableName }),
    commands,
    fleet: { store: hb.store, now: () => clock.now, settings: { evictAfterSeconds: 30 * 86_400 } },
    templates: new TemplateStore({ client, tableName }),
    alerts: createAlertPublisher({ sns: hb.deps.sns, topicArn: hb.deps.topicArn }),
    queue,
    now: () => clock.now,
    settings: { tickMs: 1_000, staleMs: 60_000, silentSeconds: 180 },
    ...extra,
  };
  const tick = tickJobHandler(commands, ROLLOUT_TEST_COMMAND_SETTINGS.sendBudgetMs);
  const drain = async (maxJobs = Infinity): Promise<void> => {
    let ran = 0;
    for (let i = jobs.findIndex((j) => j.type === COMMAND_TICK_JOB); i >= 0 && ran++ < maxJobs; i = jobs.findIndex((j) => j.type === COMMAND_TICK_JOB)) {
      const job = jobs.splice(i, 1)[0] as { type: string };
      await tick(job, sqsRecord(JSON.stringify(job)));
    }
  };
  const poll = async (): Promise<void> => {
    await startPoll(hb.deps, clock.now);
    while (hb.queued.length > 0) await runShard(hb.deps, hb.queued.shift()!);
  };
  return {
    deps,
    hb,
    clock,
    jobs,
    drain,
    poll,
    async driveUntil(id, done, stepMs = 500) {
      for (let i = 0; i < 200; i++) {
        await drain();
        await tickRollout(deps, id);
        const view = await getRollout(deps, id);
        if (done(view)) return view;
        clock.now += stepMs;
      }
      throw new Error(`rollout ${id} did not get there: ${JSON.stringify(await getRollout(deps, id))}`);
    },
  };
}
