/**
 * The command engine's metrics, driven through lib/ against the shared stack's real parts: a
 * commands table of this file's own in DynamoDB Local (no stream poller reads it, so the stack's
 * recovery never touches these commands), a queue of its own in the SQS emulator for the engine's
 * ticks, and the GSE simulator for the deliveries. CommandsStarted counts commands recorded;
 * CommandsRunning is the sweep's gauge of the commands RUNNING when it looked.
 */
import { CreateTableCommand } from "@aws-sdk/client-dynamodb";
import { CreateQueueCommand } from "@aws-sdk/client-sqs";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { randomBytes, randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { cancelCommand, dispatchCommand } from "../../../lib/commands/api.ts";
import { sweepCommands } from "../../../lib/commands/sweep.ts";
import type { CommandDeps, CommandSettings } from "../../../lib/commands/settings.ts";
import { CommandStore } from "../../../lib/commands/store.ts";
import { ConflictError } from "../../../lib/core/errors.ts";
import { sqsSender } from "../../../lib/core/queue.ts";
import { GseClient } from "../../../lib/gse/client.ts";
import { TABLES } from "../../../lib/resources.ts";
import { tableSpec } from "../../../local/dynamodb.ts";
import { captureMetrics, type CapturedMetrics } from "../../helpers/emf.ts";
import { addSimAgents } from "../../helpers/heartbeat.ts";
import { testGseConfig, useStack } from "../../helpers/stack.ts";

const { info, dynamo, sqs } = useStack();
const run = randomUUID().slice(0, 8);

const SETTINGS: CommandSettings = {
  batchSize: 100,
  gseConcurrency: 4,
  maxAttempts: 3,
  retryBaseMs: 1_000,
  retryMaxDelayMs: 2_000,
  sendBudgetMs: 10_000,
  leaseMs: 30_000,
  tickMs: 60_000,
  retentionMs: 86_400_000,
};

let agents: string[];
beforeAll(async () => {
  agents = (await addSimAgents(info, 3)).ids;
});

/** The engine on a fresh commands table and queue of its own, recording into `captured`. */
async function commandEngine(): Promise<{ deps: CommandDeps } & CapturedMetrics> {
  const name = `cmd-metrics-${randomBytes(6).toString("hex")}`;
  await dynamo.send(new CreateTableCommand(tableSpec(TABLES.commands, name)));
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-jobs` }));
  if (!QueueUrl) throw new Error("could not create the test queue");
  const captured = captureMetrics();
  const deps: CommandDeps = {
    store: new CommandStore({ client: DynamoDBDocumentClient.from(dynamo), tableName: name }),
    gse: new GseClient({ gse: testGseConfig(info), sleep: async () => undefined }),
    slot: { slotId: info.credentials.gse.slotId, slotToken: info.credentials.gse.slotToken },
    queue: sqsSender(sqs, QueueUrl),
    settings: SETTINGS,
    now: () => Date.now(),
    random: Math.random,
    metrics: captured.metrics,
  };
  return { deps, ...captured };
}

const messageId = (label: string): string => `test.cmd-metrics.${label}.${run}.${randomUUID().slice(0, 8)}`;

/** A command that stays RUNNING: it waits 5 minutes for replies the stack's callback keeps, not this table. */
const waiting = (id: string, content = "ping") => ({ message_id: id, agent_id_list: agents, content, reply_timeout_seconds: 300 });

describe("command metrics", () => {
  it("records CommandsStarted 1 for a dispatch that records a new command", async () => {
    const { deps, values } = await commandEngine();
    const id = messageId("started");
    const answer = await dispatchCommand(deps, waiting(id), "tester");
    expect(answer.command).toMatchObject({ message_id: id, status: "RUNNING" });
    expect(await deps.store.getCommand(id)).toBeDefined();
    expect(values("CommandsStarted", { service: "gse-control" })).toEqual([1]);
  });

  it("records no second CommandsStarted for a message_id submitted again, with the same body or another", async () => {
    const { deps, values } = await commandEngine();
    const id = messageId("again");
    await dispatchCommand(deps, waiting(id), "tester");
    const again = await dispatchCommand(deps, waiting(id), "tester");
    expect(again.command.message_id).toBe(id);
    await expect(dispatchCommand(deps, waiting(id, "another body"), "tester")).rejects.toBeInstanceOf(ConflictError);
    expect(values("CommandsStarted")).toEqual([1]);
  });

  it("records CommandsRunning N for a sweep that finds N commands RUNNING, leaving out the ones that ended", async () => {
    const { deps, values } = await commandEngine();
    const ids = [messageId("run-a"), messageId("run-b"), messageId("run-c"), messageId("cancelled")];
    for (const id of ids) await dispatchCommand(deps, waiting(id), "tester");
    await cancelCommand(deps, ids[3]!, "test");
    // One data point per command (CloudWatch sums them).
    expect(values("CommandsStarted")).toEqual([1, 1, 1, 1]);
    expect((await sweepCommands(deps)).running).toBe(3);
    expect(values("CommandsRunning", { service: "gse-control" })).toEqual([3]);
    // A gauge: each sweep sends what it saw then, not a sum.
    await cancelCommand(deps, ids[0]!, "test");
    await sweepCommands(deps);
    expect(values("CommandsRunning")).toEqual([3, 2]);
  });

  it("records CommandsRunning 0 for a sweep that finds none, so the gauge reads zero rather than missing", async () => {
    const { deps, values } = await commandEngine();
    expect(await sweepCommands(deps)).toEqual({ running: 0, finished: 0, revived: 0 });
    expect(values("CommandsRunning")).toEqual([0]);
    expect(values("CommandsStarted")).toEqual([]);
  });
});
