/**
 * Commands after a kill -9 of the process sending them, at each step of a dispatch. The kill is
 * injected (deterministic): the dying process's store, GSE client and queue throw from the chosen
 * call on, as a killed process stops between two writes. What survives is what a real crash
 * leaves: the commands table (DynamoDB Local, a table of this file's own with its stream), the jobs
 * already on the queue, and what GSE (the stack's simulator) was told. Then the rest of the system
 * runs on a test clock: the table's stream into the real recovery rule (alerts to the stack's SNS
 * topic, read back from the SQS emulator), the queued watchdog ticks and retries, and the sweep
 * once its period has passed. After one sweep period every command must have ended, with counts
 * equal to its agents' outcomes, no agent moved backwards, and exactly one alert.
 */
import { CreateTableCommand, DeleteTableCommand } from "@aws-sdk/client-dynamodb";
import { DynamoDBStreamsClient } from "@aws-sdk/client-dynamodb-streams";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, type TestContext } from "vitest";
import type { JobHandler } from "../../lib/automation/jobs.ts";
import { dispatchCommand } from "../../lib/commands/api.ts";
import { isWaitingForRetry, tallyOutcomes } from "../../lib/commands/outcomes.ts";
import { commandRecoveryRule, retryJobHandler, tickJobHandler } from "../../lib/commands/retry.ts";
import type { DispatchCommandRequest, OutcomeCounts } from "../../lib/commands/schemas.ts";
import { COMMAND_RETRY_JOB, COMMAND_TICK_JOB, type CommandDeps, type CommandSettings, type JobQueue } from "../../lib/commands/settings.ts";
import { CommandStore, type AgentCommandItem, type CommandItem } from "../../lib/commands/store.ts";
import { sweepCommands } from "../../lib/commands/sweep.ts";
import { createAlertPublisher } from "../../lib/core/alerts.ts";
import { streamRecordSchema } from "../../lib/core/records.ts";
import { GseClient } from "../../lib/gse/client.ts";
import { TABLES } from "../../lib/resources.ts";
import { STREAM_SUBSCRIPTIONS } from "../../lib/wiring.ts";
import { localClientConfig } from "../../local/aws.ts";
import { tableSpec } from "../../local/dynamodb.ts";
import { memoryCheckpoints } from "../../local/pollers/checkpoints.ts";
import { StreamPoller } from "../../local/pollers/stream.ts";
import { alertInbox, type AlertInbox } from "../helpers/configs.ts";
import { sqsRecord } from "../helpers/events.ts";
import { addSimAgents, setSimStatus } from "../helpers/heartbeat.ts";
import { DETAIL } from "../helpers/reliability-reporter.ts";
import { eventually, simulatorControl, testGseConfig, useStack } from "../helpers/stack.ts";

const { info, dynamo, sqs, sns } = useStack();
const streams = new DynamoDBStreamsClient(localClientConfig(info.dynamodbEndpoint));
const tableName = `cmd-crash-${randomBytes(6).toString("hex")}`;
const run = randomUUID().slice(0, 8);

/** The scheduled sweep's period (lib/wiring.ts SCHEDULES: every 5 minutes). */
const SWEEP_MS = 5 * 60_000;

/**
 * Retries wait longer than a batch's lease (0.9 × 60 s > 20 s), so a batch is taken over while
 * its failed agents are still waiting for their retry, as in production with its defaults.
 */
const SETTINGS: CommandSettings = {
  batchSize: 10,
  gseConcurrency: 1,
  maxAttempts: 3,
  retryBaseMs: 60_000,
  retryMaxDelayMs: 120_000,
  sendBudgetMs: 60_000,
  leaseMs: 20_000,
  tickMs: 30_000,
  retentionMs: 86_400_000,
};

/** How a killed process ends: every call it would make from the kill on fails with this. */
class Killed extends Error {
  constructor(at: string) {
    super(`killed at ${at}`);
    this.name = "Killed";
  }
}

/** Where to kill: the nth call of a method, before it runs (nothing written) or after (written, not returned). */
interface KillPoint {
  readonly call: string;
  readonly nth?: number;
  readonly when: "before" | "after";
}

/** Every call that writes, sends or enqueues: what a dead process can no longer do. */
const EFFECTS = new Set([
  "createCommand",
  "addToCommand",
  "finish",
  "setCounts",
  "putBatches",
  "claimBatch",
  "completeBatch",
  "releaseBatch",
  "skipBatch",
  "prewriteAgents",
  "recordFailures",
  "markRetrying",
  "rearmRetry",
  "claimRetryJob",
  "lockRetries",
  "askRetryAgain",
  "unlockRetries",
  "claimRetries",
  "recordRetries",
  "dropRetryEntries",
  "giveUp",
  "markReplied",
  "markTimedOut",
  "call",
  "send",
]);

/** One process: it dies at `point`, and from then on none of its effects happen. */
class DyingProcess {
  dead = false;
  private readonly seen = new Map<string, number>();

  constructor(private readonly point?: KillPoint) {}

  mortal<T extends object>(target: T): T {
    return new Proxy(target, {
      get: (object, name, receiver) => {
        const value: unknown = Reflect.get(object, name, receiver);
        if (typeof name !== "string" || typeof value !== "function" || !EFFECTS.has(name)) return value;
        return async (...args: unknown[]) => {
          if (this.dead) throw new Killed(`${name} (already dead)`);
          const nth = (this.seen.get(name) ?? 0) + 1;
          this.seen.set(name, nth);
          const hit = this.point?.call === name && (this.point.nth ?? 1) === nth;
          if (hit && this.point?.when === "before") this.kill(name);
          const result: unknown = await value.apply(object, args);
          if (hit) this.kill(name);
          return result;
        };
      },
    });
  }

  private kill(name: string): never {
    this.dead = true;
    throw new Killed(`${name} #${this.seen.get(name)}`);
  }
}

/** The automation queue as SQS keeps it across a crash: jobs with the time they are due. */
class TestQueue implements JobQueue {
  readonly jobs: { body: Record<string, unknown> & { type: string }; dueAt: number }[] = [];
  constructor(private readonly clock: { now: number }) {}

  async send(job: Readonly<Record<string, unknown>> & { type: string }, delaySeconds: number): Promise<void> {
    this.jobs.push({ body: { ...job }, dueAt: this.clock.now + delaySeconds * 1000 });
  }

  /** Removes and returns the jobs due by now, earliest first. */
  takeDue(): { body: Record<string, unknown> & { type: string } }[] {
    const due = this.jobs.filter((j) => j.dueAt <= this.clock.now).sort((a, b) => a.dueAt - b.dueAt);
    for (const job of due) this.jobs.splice(this.jobs.indexOf(job), 1);
    return due;
  }

  nextDue(): number | undefined {
    return this.jobs.length === 0 ? undefined : Math.min(...this.jobs.map((j) => j.dueAt));
  }
}

interface World {
  readonly clock: { now: number };
  readonly queue: TestQueue;
  /** The engine of a process that lives (recovery, the automation worker, the sweep). */
  readonly deps: CommandDeps;
  /** The engine of a process that dies at `point`. */
  dying(point: KillPoint): CommandDeps;
}

const store = new CommandStore({ client: DynamoDBDocumentClient.from(dynamo), tableName });
const gse = new GseClient({ gse: testGseConfig(info), sleep: async () => undefined });
const slot = { slotId: info.credentials.gse.slotId, slotToken: info.credentials.gse.slotToken };
let inbox: AlertInbox;

/** A fresh world per test: its clock and its queue (the table and its stream are the file's; message ids are each test's). */
function world(): World {
  const clock = { now: Date.now() };
  const queue = new TestQueue(clock);
  const base = { gse, slot, queue, settings: SETTINGS, now: () => clock.now, random: () => 0.9 };
  const deps: CommandDeps = { ...base, store };
  current = { deps, rule: commandRecoveryRule({ ...deps, alerts: createAlertPublisher({ sns, topicArn: info.alertsTopicArn }) }) };
  return {
    clock,
    queue,
    deps,
    dying(point) {
      const doomed = new DyingProcess(point);
      return { ...base, store: doomed.mortal(store), gse: doomed.mortal(gse), queue: doomed.mortal(queue) };
    },
  };
}

/** Recovery as the stack runs it: the table's stream, its filters, the real rule (of the current test's world). */
let current: { deps: CommandDeps; rule: ReturnType<typeof commandRecoveryRule> } | undefined;
const subscription = STREAM_SUBSCRIPTIONS.find((s) => s.table === "commands");
const poller = new StreamPoller({
  dynamo,
  streams,
  tableName,
  batchSize: 25,
  maxRetryAttempts: 5,
  bisectBatchOnError: true,
  ...(subscription?.filters ? { filters: subscription.filters } : {}),
  checkpoints: memoryCheckpoints(),
  invoke: async (event) => {
    for (const record of event.Records) await current?.rule(streamRecordSchema.parse(record));
  },
});

/** Recovery reads the table's stream until it is empty (the records the crash left included). */
async function drainStream(): Promise<number> {
  let handled = 0;
  for (let idle = 0; idle < 2; ) {
    const n = await poller.pollOnce();
    handled += n;
    idle = n === 0 ? idle + 1 : 0;
  }
  return handled;
}

/** SQS's visibility timeout: a job whose worker died is delivered again this long after. */
const VISIBILITY_MS = 30_000;

/**
 * The automation worker runs the jobs due now, in `deps`' process. When that process dies, the
 * job it was running and those it had not started come back after the visibility timeout.
 */
async function runDueJobs(w: World, deps: CommandDeps = w.deps): Promise<number> {
  const due = w.queue.takeDue();
  const handlers: Record<string, JobHandler> = { [COMMAND_TICK_JOB]: tickJobHandler(deps, SETTINGS.sendBudgetMs), [COMMAND_RETRY_JOB]: retryJobHandler(deps) };
  for (const [i, job] of due.entries()) {
    const handler = handlers[job.body.type];
    if (!handler) throw new Error(`no handler for ${job.body.type}`);
    try {
      await handler(job.body, sqsRecord(JSON.stringify(job.body)));
    } catch (error) {
      for (const left of due.slice(i)) w.queue.jobs.push({ body: left.body, dueAt: w.clock.now + VISIBILITY_MS });
      throw error;
    }
  }
  return due.length;
}

/**
 * What the system does after the crash, on the test clock up to one sweep period later: the
 * stream, the due jobs, then the clock moves to the next due job or to the sweep. Returns the
 * command as it is when the period is over (or as soon as it ended and nothing is left to do).
 */
async function afterTheCrash(w: World, id: string): Promise<{ command: CommandItem; tookMs: number }> {
  const crashedAt = w.clock.now;
  const sweepAt = crashedAt + SWEEP_MS;
  let swept = false;
  for (let round = 0; round < 500; round++) {
    if ((await drainStream()) + (await runDueJobs(w)) > 0) continue;
    const command = await store.getCommand(id);
    if (command?.status !== "RUNNING" && w.queue.nextDue() === undefined) break;
    const next = Math.min(w.queue.nextDue() ?? Infinity, swept ? Infinity : sweepAt);
    if (next > sweepAt) break;
    w.clock.now = Math.max(w.clock.now, next);
    if (!swept && w.clock.now >= sweepAt) {
      swept = true;
      await sweepCommands(w.deps);
    }
  }
  const command = await store.getCommand(id);
  if (!command) throw new Error(`command ${id} is gone`);
  const ended = command.finished_at ?? Number.NaN;
  return { command, tookMs: ended - crashedAt };
}

/** The stored agents of a command, by id. */
async function storedAgents(id: string): Promise<Map<string, AgentCommandItem>> {
  const agents = new Map<string, AgentCommandItem>();
  const command = await store.getCommand(id);
  if (!command) return agents;
  for await (const page of store.agentItems(command)) for (const a of page) agents.set(a.agent_id, a);
  return agents;
}

/**
 * What must hold once a command is through its crash: it ended, its counts are those its agents'
 * outcomes make now (nothing changed after the count, nothing counted twice or lost), they add
 * up to its targets, no agent still waits for a retry nor is counted as waiting, and exactly one
 * alert was published for it.
 */
async function expectConverged(w: World, ctx: TestContext, id: string, expected: { status: string; counts: Partial<OutcomeCounts> }): Promise<void> {
  const { command, tookMs } = await afterTheCrash(w, id);
  expect(command.status, `still ${command.status}: pending_retries ${command.pending_retries}, batches ${command.batches_done}/${command.batch_count}`).toBe(
    expected.status,
  );
  expect(tookMs).toBeLessThanOrEqual(SWEEP_MS);
  const recount = await tallyOutcomes(store, command, await store.batches(id, command.body_hash));
  expect(command.counts).toEqual(recount);
  expect(command.counts).toMatchObject(expected.counts);
  expect(Object.values(recount).reduce((a, b) => a + b, 0)).toBe(command.target_count);
  expect(command.pending_retries).toBe(0);
  expect([...(await storedAgents(id)).values()].filter(isWaitingForRetry)).toEqual([]);
  // Another sweep and the stream once more: nothing more happens, and no second alert.
  await sweepCommands(w.deps);
  await drainStream();
  const alerts = await eventually(
    `the alert of ${id}`,
    async () => {
      const found = await inbox.about(`command#${id}`);
      return found.length > 0 ? found : undefined;
    },
    30_000,
  );
  expect(alerts).toHaveLength(1);
  expect(alerts[0]).toMatchObject({ message_id: id, status: expected.status, counts: command.counts });
  ctx.annotate(`ended ${command.status} ${Math.round(tookMs / 1000)} s (test clock) after the kill; counts ${JSON.stringify(command.counts)}; 1 alert`, DETAIL);
}

/** 30 agents of this file's own, silent (replies are the test's to give), the first three not connected. */
async function agents(): Promise<{ ids: string[]; down: string[] }> {
  const { ids } = await addSimAgents(info, 30);
  await simulatorControl(info, "POST", "agents/silent", { ids, silent: true });
  const down = ids.slice(0, 3);
  await setSimStatus(info, down, 0);
  return { ids, down };
}

const request = (id: string, ids: readonly string[], maxConcurrency = 10): DispatchCommandRequest => ({
  message_id: id,
  agent_id_list: [...ids],
  content: "reload",
  max_concurrency: maxConcurrency,
});

/**
 * Batches of 10 with room beside them for the first batch's three agents that wait for a retry
 * (in flight until their retries end): the later batches go out at once, as the kill points below need.
 */
const ROOM_FOR_RETRIES = 13;
const messageId = (label: string): string => `test.cmd-crash.${label}.${run}.${randomUUID().slice(0, 8)}`;

/** The first dispatch request, in a process killed at `point`. */
async function killedDispatch(w: World, id: string, ids: readonly string[], point: KillPoint): Promise<void> {
  await expect(dispatchCommand(w.dying(point), request(id, ids), "crash-test")).rejects.toBeInstanceOf(Killed);
}

beforeAll(async () => {
  await dynamo.send(new CreateTableCommand(tableSpec(TABLES.commands, tableName)));
  inbox = await alertInbox(info, sqs, sns);
});

afterAll(async () => {
  await dynamo.send(new DeleteTableCommand({ TableName: tableName }));
  streams.destroy();
});

// The three agents not connected fail all three attempts: PARTIAL, 27 delivered, 3 failed.
const PARTIAL = { status: "PARTIAL", counts: { SENT: 27, FAILED: 3, PENDING: 0, RETRYING: 0, SKIPPED: 0 } };

describe("a dispatch request killed while sending its first batch", () => {
  it("killed before the GSE call: the watchdog takes the batch over after its lease, and the command ends with its agents' counts and one alert within a sweep period", async (ctx) => {
    const w = world();
    const { ids } = await agents();
    const id = messageId("before-gse");
    await killedDispatch(w, id, ids, { call: "call", when: "before" });
    expect(await store.batches(id, (await store.getCommand(id))?.body_hash ?? "")).toMatchObject([
      { state: "SENDING" },
      { state: "PENDING" },
      { state: "PENDING" },
    ]);
    await expectConverged(w, ctx, id, PARTIAL);
  }, 120_000);

  it("killed after GSE took the batch, before its failures were recorded: the batch is sent again after its lease, each failure counted once", async (ctx) => {
    const w = world();
    const { ids } = await agents();
    const id = messageId("after-gse");
    await killedDispatch(w, id, ids, { call: "recordFailures", when: "before" });
    await expectConverged(w, ctx, id, PARTIAL);
  }, 120_000);

  it("killed after its failures were recorded, before the batch was completed: a takeover after the lease keeps the replies, failures and retries already there", async (ctx) => {
    const w = world();
    const { ids, down } = await agents();
    const id = messageId("takeover");
    await killedDispatch(w, id, ids, { call: "completeBatch", when: "before" });
    // Recovery takes the three failures in hand (their retries wait 54 s, past the 20 s lease)
    // and the seven delivered agents of the batch reply; then the watchdog takes the batch over.
    await drainStream();
    const before = await storedAgents(id);
    expect(down.map((a) => before.get(a)?.outcome)).toEqual(["RETRYING", "RETRYING", "RETRYING"]);
    // One of the three replies anyway (GSE's "not connected" was wrong, the message got through):
    // it is REPLIED, and no longer one of the command's pending retries.
    const replied = [...ids.slice(3, 10), down[0] as string];
    const command = await store.getCommand(id);
    if (!command) throw new Error("command not stored");
    // As the callback passes it: the command awaits no reply, so a delivered agent has no item until it replies.
    const sparse = { hash: command.body_hash, targets: command.target_count, expiresAt: command.expires_at };
    for (const agent of replied) expect(await store.markReplied(command, agent, { text: "done", now: w.clock.now, tracked: false, sparse })).toBe("replied");
    // Its failures count when their batch completes (the takeover's completion counts the three
    // recorded); the reply already took its agent off the pending retries.
    expect(await store.getCommand(id)).toMatchObject({ pending_retries: -1, errors: 0, batches_done: 0 });
    await expectConverged(w, ctx, id, { status: "PARTIAL", counts: { SENT: 20, REPLIED: 8, FAILED: 2, PENDING: 0, RETRYING: 0 } });
    const after = await storedAgents(id);
    expect(replied.map((a) => after.get(a)?.outcome)).toEqual(replied.map(() => "REPLIED"));
  }, 120_000);
});

describe("the watchdog tick killed while sending the other batches", () => {
  it("killed mid-run, between two batches (after the second batch, before the third's claim): the next tick sends the rest", async (ctx) => {
    const w = world();
    const { ids } = await agents();
    const id = messageId("mid-run");
    await dispatchCommand(w.deps, request(id, ids, ROOM_FOR_RETRIES), "crash-test");
    await drainStream();
    // The request queued a tick at once for the other two batches: it runs in a process that dies.
    await expect(runDueJobs(w, w.dying({ call: "claimBatch", nth: 2, when: "before" }))).rejects.toBeInstanceOf(Killed);
    expect((await store.getCommand(id))?.batches_done).toBe(2);
    await expectConverged(w, ctx, id, PARTIAL);
  }, 120_000);

  it("killed mid-batch, after the batch was claimed and before GSE was called: the batch is taken over after its lease", async (ctx) => {
    const w = world();
    const { ids } = await agents();
    const id = messageId("mid-batch");
    await dispatchCommand(w.deps, request(id, ids, ROOM_FOR_RETRIES), "crash-test");
    await drainStream();
    // The command awaits no reply: nothing is written of its agents between the claim and the GSE call.
    await expect(runDueJobs(w, w.dying({ call: "claimBatch", when: "after" }))).rejects.toBeInstanceOf(Killed);
    await expectConverged(w, ctx, id, PARTIAL);
  }, 120_000);
});

describe("a retry job killed", () => {
  /** The command after its first batch, its failures in recovery's hands, the clock at their retries. */
  async function untilRetriesDue(w: World, id: string, ids: readonly string[]): Promise<void> {
    await dispatchCommand(w.deps, request(id, ids), "crash-test");
    // Every batch sent (the tick the request queued runs now), the failures' retries queued.
    await drainStream();
    await runDueJobs(w);
    await drainStream();
    const retry = w.queue.jobs.filter((j) => j.body.type === COMMAND_RETRY_JOB);
    // One round job per due time (the failures of one batch mostly share it), none per agent.
    expect(retry.length).toBeGreaterThan(0);
    expect(retry.length).toBeLessThanOrEqual(3);
    w.clock.now = Math.max(...retry.map((j) => j.dueAt));
    // Only the retries run in the process that dies: the ticks stay queued for later.
    const ticks = w.queue.jobs.filter((j) => j.body.type === COMMAND_TICK_JOB);
    for (const t of ticks) t.dueAt = Math.max(t.dueAt, w.clock.now + 1);
  }

  it("killed after its round claimed the agents' attempts, before the GSE call: the watchdog queues the attempts again and the command ends", async (ctx) => {
    const w = world();
    const { ids } = await agents();
    const id = messageId("retry-claimed");
    await untilRetriesDue(w, id, ids);
    await expect(runDueJobs(w, w.dying({ call: "claimRetries", when: "after" }))).rejects.toBeInstanceOf(Killed);
    await expectConverged(w, ctx, id, PARTIAL);
  }, 120_000);

  it("killed after GSE answered the retry, before recording it: the watchdog queues the attempt again and the command ends", async (ctx) => {
    const w = world();
    const { ids } = await agents();
    const id = messageId("retry-answered");
    await untilRetriesDue(w, id, ids);
    await expect(runDueJobs(w, w.dying({ call: "recordRetries", when: "before" }))).rejects.toBeInstanceOf(Killed);
    await expectConverged(w, ctx, id, PARTIAL);
  }, 120_000);
});

describe("a command whose counter a crash left wrong", () => {
  it("counted 31 pending retries no agent waits for (what the old takeover left): the sweep ends it from its agents, once, and corrects the counter", async (ctx) => {
    const w = world();
    const { ids } = await agents();
    const id = messageId("lost-counter");
    await dispatchCommand(w.deps, request(id, ids), "crash-test");
    // The counter moves without any agent: retries counted that no agent will ever take back.
    await store.addToCommand(id, { pendingRetries: 31 }, w.clock.now);
    await expectConverged(w, ctx, id, PARTIAL);
  }, 120_000);
});
