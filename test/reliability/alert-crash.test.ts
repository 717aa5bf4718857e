/**
 * Alerts survive crashes: for each source of alerts, the process raising one is killed between the
 * state write and the publish (or the result it would be counted from), then what production does
 * next runs (the job's redelivery, the stream's retry, the outbox sweep) and exactly one alert with
 * its alert_id reaches a queue subscribed to the topic, the state being what it was.
 *
 * A kill is modelled on the process's own clients: from the chosen call on, every DynamoDB and SNS
 * call it makes fails, as after kill -9 (no cleanup in a catch block gets through). Everything else
 * is real: DynamoDB Local, the SNS/SQS emulator and the GSE simulator of the shared stack, each test
 * on tables and a topic of its own (the stack's recovery and schedules never see them).
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SNSClient } from "@aws-sdk/client-sns";
import { DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { randomBytes, randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { commandAlertId, raiseCommandAlert } from "../../lib/commands/alert-outbox.ts";
import type { CommandAlert } from "../../lib/commands/alerts.ts";
import { zeroCounts } from "../../lib/commands/outcomes.ts";
import { commandPk, META_SK } from "../../lib/commands/store/items.ts";
import { changeConfig } from "../../lib/config-versions/apply.ts";
import { ConfigStore } from "../../lib/config-versions/store.ts";
import { undoVersion, type UndoDeps } from "../../lib/config-versions/undo.ts";
import { createAlertPublisher } from "../../lib/core/alerts.ts";
import { severityOf } from "../../lib/core/alert-catalog.ts";
import { Outbox, OUTBOX_LEASE_MS, sweepOutbox } from "../../lib/core/outbox.ts";
import { listAgents, registerAgents, unregisterAgents } from "../../lib/fleet/service.ts";
import { FleetStore, newFleetCalls } from "../../lib/fleet/store.ts";
import type { OperationRequest } from "../../lib/gse/operations.ts";
import { heartbeatAlertSchema } from "../../lib/heartbeat/alerts.ts";
import { startPoll, type HeartbeatDeps } from "../../lib/heartbeat/poll.ts";
import { TABLES } from "../../lib/resources.ts";
import { localClientConfig } from "../../local/aws.ts";
import { tableSpec } from "../../local/dynamodb.ts";
import { directGse, LosingGse, route } from "../helpers/configs.ts";
import { addSimAgents, setSimStatus, testHeartbeat, type TestHeartbeat } from "../helpers/heartbeat.ts";
import { topicWithInbox, type PublishedMessage } from "../helpers/sns-inbox.ts";
import { simulatorControl, uniqueBuiltInChannelId, useStack, withFaults } from "../helpers/stack.ts";

const { info, dynamo, sns, sqs } = useStack();
const MINUTE = 60_000;
const silent = new Logger({ logLevel: "SILENT" });

class Killed extends Error {
  constructor(where: string) {
    super(`process killed (${where})`);
    this.name = "Killed";
  }
}

/**
 * The clients of one process that gets killed: when `at` first matches a call (by client and the
 * call's input as JSON), that call and every later one of these clients fail.
 */
function killableProcess(at: (client: "dynamodb" | "sns", input: string) => boolean) {
  let killed = false;
  const guard = (client: "dynamodb" | "sns") =>
    function killSwitch<I extends { input: unknown }, O>(next: (args: I) => Promise<O>) {
      return async (args: I): Promise<O> => {
        if (!killed && at(client, JSON.stringify(args.input))) killed = true;
        if (killed) throw new Killed(`at a ${client} call`);
        return next(args);
      };
    };
  const processDynamo = new DynamoDBClient(localClientConfig(info.dynamodbEndpoint));
  processDynamo.middlewareStack.add(guard("dynamodb"), { step: "initialize", name: "killSwitch" });
  const processSns = new SNSClient(localClientConfig(info.sqsEndpoint));
  processSns.middlewareStack.add(guard("sns"), { step: "initialize", name: "killSwitch" });
  return {
    documents: DynamoDBDocumentClient.from(processDynamo, { marshallOptions: { removeUndefinedValues: true } }),
    sns: processSns,
    get killed() {
      return killed;
    },
  };
}

/** The outbox sweep as the command_sweep schedule runs it, on healthy clients, at `now`. */
const sweep = (outbox: Outbox, topicArn: string, now: number) =>
  sweepOutbox({ outboxes: [outbox], publisher: createAlertPublisher({ sns, topicArn }), now: () => now, logger: silent });

// ---- heartbeat ----------------------------------------------------------------------------------

async function register(hb: TestHeartbeat, ids: readonly string[]): Promise<void> {
  await registerAgents({ store: hb.store, now: () => hb.clock.now, settings: { evictAfterSeconds: 30 * 86_400 } }, ids, "api");
}

async function statuses(hb: TestHeartbeat): Promise<string[]> {
  const { agents } = await listAgents({ store: hb.store, now: () => hb.clock.now, settings: { evictAfterSeconds: 30 * 86_400 } }, { limit: 1000 });
  return agents.map((a) => a.status);
}

/** The heartbeat's deps, but with the store and SNS client of a process that gets killed. */
function crashingHeartbeat(hb: TestHeartbeat, proc: ReturnType<typeof killableProcess>): HeartbeatDeps {
  return { ...hb.deps, store: new FleetStore({ client: proc.documents, tableName: hb.store.tableName }), sns: proc.sns };
}

/**
 * Five agents seen alive, then down: the next poll marks them lost (HEARTBEAT_LOST_AFTER_POLLS is 1
 * here, so that the test is two polls shorter). Returns their ids.
 */
async function fiveAgentsAboutToBeLost(hb: TestHeartbeat): Promise<string[]> {
  const { ids } = await addSimAgents(info, 5);
  await register(hb, ids);
  hb.clock.now += MINUTE;
  await startPoll(hb.deps, hb.clock.now);
  await setSimStatus(info, ids, 3);
  expect(await hb.takeAlerts()).toEqual([]);
  return ids;
}

/** The next poll, a minute on, run in a process killed where `kill` says: its time, and the process. */
async function killedPoll(hb: TestHeartbeat, kill: Parameters<typeof killableProcess>[0]): Promise<{ at: number; proc: ReturnType<typeof killableProcess> }> {
  const proc = killableProcess(kill);
  hb.clock.now += MINUTE;
  const at = hb.clock.now;
  await expect(startPoll(crashingHeartbeat(hb, proc), at)).rejects.toThrow(Killed);
  return { at, proc };
}

/** The one lost alert: every agent named, with the alert_id in the body and as an SNS attribute. */
function expectOneLostAlert(messages: readonly PublishedMessage[], ids: readonly string[]): void {
  expect(messages.map((m) => m.body.type)).toEqual(["heartbeat.lost"]);
  const alert = heartbeatAlertSchema.parse(messages[0]?.body);
  expect(alert.count).toBe(ids.length);
  expect(alert.sample.map((s) => s.agent_id).sort()).toEqual([...ids].sort());
  expect(alert.alert_id).toEqual(expect.stringMatching(/^heartbeat\.lost#/));
  expect(messages[0]?.attributes.alert_id).toBe(alert.alert_id);
}

describe("heartbeat shard", () => {
  it("killed after writing its agents' lost transitions, before storing its result: the retried shard finishes the poll with one lost alert naming every agent", async () => {
    const hb = await testHeartbeat({ lostAfterPolls: 1 });
    const ids = await fiveAgentsAboutToBeLost(hb);

    // Killed at the put of the shard's result: the agents are written, nothing after them is.
    const { at, proc } = await killedPoll(hb, (client, input) => client === "dynamodb" && input.includes('"shard#0"'));
    expect(proc.killed).toBe(true);
    expect(await statuses(hb)).toEqual(["lost", "lost", "lost", "lost", "lost"]);
    expect(await hb.takeMessages()).toEqual([]);

    // Lambda retries the failed scheduled run once the shard's budget is over: it resumes the
    // shard, which finds the agents already lost (no transition of its own) and finishes the poll.
    hb.clock.now += hb.deps.settings.budgetMs + 1;
    await startPoll(hb.deps, at);
    expectOneLostAlert(await hb.takeMessages(), ids);

    // Nothing left for the sweep, and the state is what the killed shard wrote.
    expect(await sweep(hb.store.outbox, hb.deps.topicArn, hb.clock.now + OUTBOX_LEASE_MS + 1)).toEqual({ published: 0, failed: 0 });
    expect(await hb.takeMessages()).toEqual([]);
    expect(await statuses(hb)).toEqual(["lost", "lost", "lost", "lost", "lost"]);
  });

  it("killed between its agents' writes, before any alert was recorded: the retried shard alerts once for the agents written and the ones it writes", async () => {
    // One write at a time, so the kill at the third leaves exactly two written (with 16 in flight, which landed is a race).
    const hb = await testHeartbeat({ lostAfterPolls: 1, writeConcurrency: 1 });
    const ids = await fiveAgentsAboutToBeLost(hb);

    // Killed at the third agent's update: two agents are lost (with their marks), nothing of the poll's alerts is recorded.
    let agentWrites = 0;
    const { at } = await killedPoll(
      hb,
      (client, input) => client === "dynamodb" && input.includes('"ConditionExpression":"rev = :rev"') && ++agentWrites === 3,
    );
    expect((await statuses(hb)).filter((s) => s === "lost").length).toBe(2);
    expect(await hb.takeMessages()).toEqual([]);

    // The retried run writes the other three and counts the two from their marks: one alert, every agent once.
    hb.clock.now += hb.deps.settings.budgetMs + 1;
    await startPoll(hb.deps, at);
    expectOneLostAlert(await hb.takeMessages(), ids);
    expect(await statuses(hb)).toEqual(["lost", "lost", "lost", "lost", "lost"]);
    const history = await Promise.all(ids.map(async (id) => (await hb.store.history(id, { limit: 10 }, newFleetCalls())).transitions.map((t) => t.kind)));
    // Newest first: each agent's one lost, after its newly_seen of the first poll.
    expect(history).toEqual(ids.map(() => ["lost", "newly_seen"]));

    // And never again: not by the sweep, not by the next poll.
    expect(await sweep(hb.store.outbox, hb.deps.topicArn, hb.clock.now + OUTBOX_LEASE_MS + 1)).toEqual({ published: 0, failed: 0 });
    hb.clock.now += MINUTE;
    await startPoll(hb.deps, hb.clock.now);
    expect(await hb.takeMessages()).toEqual([]);
  });

  it("killed after writing its agents lost, and the next poll writes them recovered before the retry: the retry still alerts the lost once, the next poll the recovery once", async () => {
    const hb = await testHeartbeat({ lostAfterPolls: 1 });
    const ids = await fiveAgentsAboutToBeLost(hb);

    // Killed at the write of the poll's history: every agent is written lost, nothing after.
    const { at } = await killedPoll(hb, (client, input) => client === "dynamodb" && input.includes('"history#'));
    expect(await statuses(hb)).toEqual(["lost", "lost", "lost", "lost", "lost"]);

    await setSimStatus(info, ids, 2);
    hb.clock.now += MINUTE;
    await startPoll(hb.deps, hb.clock.now);
    expect((await hb.takeMessages()).map((m) => [m.body.type, m.body.count])).toEqual([["heartbeat.recovered", 5]]);

    // The killed poll's retry finds its marks beside the newer poll's and counts the lost transitions it wrote.
    hb.clock.now += MINUTE;
    await startPoll(hb.deps, at);
    const messages = await hb.takeMessages();
    expectOneLostAlert(messages, ids);
    expect(heartbeatAlertSchema.parse(messages[0]?.body).sample.every((s) => s.status === "lost")).toBe(true);
    expect(await sweep(hb.store.outbox, hb.deps.topicArn, hb.clock.now + OUTBOX_LEASE_MS + 1)).toEqual({ published: 0, failed: 0 });
    expect(await hb.takeMessages()).toEqual([]);
    expect(await statuses(hb)).toEqual(["alive", "alive", "alive", "alive", "alive"]);
  });

  it("killed after writing its agents lost, and two of them are unregistered before the retry: the retry still alerts all five lost once, with the unregistered ones' history", async () => {
    const hb = await testHeartbeat({ lostAfterPolls: 1 });
    const ids = await fiveAgentsAboutToBeLost(hb);

    const { at } = await killedPoll(hb, (client, input) => client === "dynamodb" && input.includes('"shard#0"'));
    expect(await statuses(hb)).toEqual(["lost", "lost", "lost", "lost", "lost"]);

    // An operator stops watching two of them before the retry (the agents are gone for good).
    const gone = ids.slice(0, 2);
    const fleet = { store: hb.store, now: () => hb.clock.now, settings: { evictAfterSeconds: 30 * 86_400 } };
    expect(await unregisterAgents(fleet, gone)).toEqual({ unregistered: 2, not_watched: 0 });
    expect(await statuses(hb)).toEqual(["lost", "lost", "lost"]);

    // They went lost all the same: the retry alerts the five, once, and puts the lost in every history.
    hb.clock.now += hb.deps.settings.budgetMs + 1;
    await startPoll(hb.deps, at);
    expectOneLostAlert(await hb.takeMessages(), ids);
    const history = await Promise.all(ids.map(async (id) => (await hb.store.history(id, { limit: 10 }, newFleetCalls())).transitions.map((t) => t.kind)));
    expect(history).toEqual(ids.map(() => ["lost", "newly_seen"]));

    // Never again: not by another run of the shard, not by the sweep, not by the next poll; and the two stay unregistered.
    hb.clock.now += MINUTE;
    await startPoll(hb.deps, at);
    expect(await sweep(hb.store.outbox, hb.deps.topicArn, hb.clock.now + OUTBOX_LEASE_MS + 1)).toEqual({ published: 0, failed: 0 });
    await startPoll(hb.deps, hb.clock.now);
    expect(await hb.takeMessages()).toEqual([]);
    expect(await statuses(hb)).toEqual(["lost", "lost", "lost"]);
  });

  it("killed in the poll's finish after the lost alert was put in the outbox, before SNS took it: the outbox sweep publishes it once, after its lease", async () => {
    const hb = await testHeartbeat({ lostAfterPolls: 1 });
    const ids = await fiveAgentsAboutToBeLost(hb);

    const { at } = await killedPoll(hb, (client) => client === "sns");
    expect(await hb.takeMessages()).toEqual([]);

    // The retried scheduled run finds the shard done: the poll's finish does not run again.
    hb.clock.now += hb.deps.settings.budgetMs + 1;
    expect((await startPoll(hb.deps, at)).duplicate).toBe(true);
    expect(await hb.takeMessages()).toEqual([]);

    // Within the killed writer's lease the sweep leaves the item; after it, the sweep publishes it once.
    expect(await sweep(hb.store.outbox, hb.deps.topicArn, at + OUTBOX_LEASE_MS / 2)).toEqual({ published: 0, failed: 0 });
    expect(await sweep(hb.store.outbox, hb.deps.topicArn, at + OUTBOX_LEASE_MS + MINUTE)).toEqual({ published: 1, failed: 0 });
    expectOneLostAlert(await hb.takeMessages(), ids);
    expect(await sweep(hb.store.outbox, hb.deps.topicArn, at + OUTBOX_LEASE_MS + 2 * MINUTE)).toEqual({ published: 0, failed: 0 });
    expect(await hb.takeMessages()).toEqual([]);
    expect(await statuses(hb)).toEqual(["lost", "lost", "lost", "lost", "lost"]);
  });
});

describe("heartbeat shard, transitions that raise no alert", () => {
  /** Each agent's history, newest first, as kind and versions. */
  const histories = (hb: TestHeartbeat, ids: readonly string[]) =>
    Promise.all(
      ids.map(async (id) =>
        (await hb.store.history(id, { limit: 10 }, newFleetCalls())).transitions.map((t) => [t.kind, t.previous_version ?? null, t.version ?? null]),
      ),
    );

  /** A process killed at its third agent write (one write at a time: exactly two land). */
  const killedAtThirdAgentWrite = () => {
    let agentWrites = 0;
    return killableProcess((client, input) => client === "dynamodb" && input.includes('"ConditionExpression":"rev = :rev"') && ++agentWrites === 3);
  };

  it("killed between its agents' writes of their first sighting, then of their version change: the retried shard records each newly_seen and version_changed once, and alerts nothing", async () => {
    const hb = await testHeartbeat({ lostAfterPolls: 1, writeConcurrency: 1 });
    const { ids } = await addSimAgents(info, 5, { version: "2.0.9" });
    await register(hb, ids);

    hb.clock.now += MINUTE;
    const firstAt = hb.clock.now;
    await expect(startPoll(crashingHeartbeat(hb, killedAtThirdAgentWrite()), firstAt)).rejects.toThrow(Killed);
    expect((await statuses(hb)).filter((s) => s === "alive").length).toBe(2);
    hb.clock.now += hb.deps.settings.budgetMs + 1;
    await startPoll(hb.deps, firstAt);
    expect(await histories(hb, ids)).toEqual(ids.map(() => [["newly_seen", null, "2.0.9"]]));

    // Every agent upgraded in GSE; the poll that sees it is killed at its third write too.
    await simulatorControl(info, "POST", "agents/remove", { ids });
    await simulatorControl(info, "POST", "agents", {
      agents: ids.map((id) => ({ ip: id.split(":")[1], bk_cloud_id: 0, version: "2.1.5", status_code: 2, churn: false })),
    });
    hb.clock.now += MINUTE;
    const upgradeAt = hb.clock.now;
    await expect(startPoll(crashingHeartbeat(hb, killedAtThirdAgentWrite()), upgradeAt)).rejects.toThrow(Killed);
    hb.clock.now += hb.deps.settings.budgetMs + 1;
    await startPoll(hb.deps, upgradeAt);
    expect(await histories(hb, ids)).toEqual(
      ids.map(() => [
        ["version_changed", "2.0.9", "2.1.5"],
        ["newly_seen", null, "2.0.9"],
      ]),
    );
    expect(await statuses(hb)).toEqual(["alive", "alive", "alive", "alive", "alive"]);
    expect(await hb.takeMessages()).toEqual([]);
  });
});

describe("heartbeat GSE outage", () => {
  it("killed in the poll's finish at the write of its gse_unreachable alert: the outage is not left open without it, the next failing poll raises it once", async () => {
    const hb = await testHeartbeat({ lostAfterPolls: 1 });
    const { ids, prefix } = await addSimAgents(info, 2);
    await register(hb, ids);
    hb.clock.now += MINUTE;
    await startPoll(hb.deps, hb.clock.now);
    const before = await statuses(hb);
    const gseDown = [{ kind: "http_error", status: 502, operation: "list_agent_state", match: prefix }];

    // Killed at the write of the alert's dedup mark (with its outbox item and the outage marker).
    const proc = killableProcess((client, input) => client === "dynamodb" && input.includes("alert#gse_unreachable"));
    hb.clock.now += MINUTE;
    await withFaults(info, gseDown, () => expect(startPoll(crashingHeartbeat(hb, proc), hb.clock.now)).rejects.toThrow(Killed));
    expect(await hb.takeMessages()).toEqual([]);

    // GSE still down at the next poll: the outage is opened now, with its one alert.
    hb.clock.now += MINUTE;
    await withFaults(info, gseDown, () => startPoll(hb.deps, hb.clock.now));
    const messages = await hb.takeMessages();
    expect(messages.map((m) => m.body.type)).toEqual(["heartbeat.gse_unreachable"]);
    expect(messages[0]?.attributes.alert_id).toBe(messages[0]?.body.alert_id);

    // And no more: not from the sweep, not from a third failing poll of the same outage.
    expect(await sweep(hb.store.outbox, hb.deps.topicArn, hb.clock.now + OUTBOX_LEASE_MS + MINUTE)).toEqual({ published: 0, failed: 0 });
    hb.clock.now += MINUTE;
    await withFaults(info, gseDown, () => startPoll(hb.deps, hb.clock.now));
    expect(await hb.takeMessages()).toEqual([]);
    // No agent was marked lost for GSE's outage.
    expect(await statuses(hb)).toEqual(before);
  });
});

// ---- config undo --------------------------------------------------------------------------------

/** A topic of the test's own and a queue subscribed to it: what reaches subscribers. */
const alertTopic = () => topicWithInbox(sns, sqs, `alert-crash-${randomBytes(6).toString("hex")}`);

describe("config undo", () => {
  it("killed after the failed version was rolled back and marked alerted, before SNS took the alert: the stream's retry sends none, the outbox sweep sends it once", async () => {
    const tableName = `alert-crash-cfg-${randomBytes(6).toString("hex")}`;
    await dynamo.send(new CreateTableCommand(tableSpec(TABLES.configs, tableName)));
    const store = new ConfigStore({ client: DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } }), tableName });
    const topic = await alertTopic();
    const gse = directGse(info);
    const changeDeps = (client: typeof gse) => ({
      gse: client,
      store,
      logger: silent,
      now: Date.now,
      newId: () => randomUUID(),
      settings: { pendingAddTtlSeconds: 3600 },
    });
    const undoDeps = (s: ConfigStore, snsClient: SNSClient): UndoDeps => ({
      gse,
      store: s,
      logger: silent,
      now: Date.now,
      operator: "admin",
      alerts: createAlertPublisher({ sns: snsClient, topicArn: topic.topicArn }),
    });

    // Version 2 of a route ends FAILED: GSE took the update, and its answer was lost.
    const channelId = uniqueBuiltInChannelId();
    const op = { operator_name: "admin" };
    const entry = (n: string) => ({ name: n, stream_to: { stream_to_id: 501, kafka: { topic_name: `crash_${channelId}_${n}` } } });
    await changeConfig(
      changeDeps(gse),
      "add_route",
      { metadata: { channel_id: channelId, plat_name: "crash" }, operation: op, route: [entry("a")] } as OperationRequest<"add_route">,
      { author: "t" },
    );
    await changeConfig(
      changeDeps(new LosingGse(info, "update_route")),
      "update_route",
      { condition: { channel_id: channelId, plat_name: "crash" }, operation: op, specification: { route: [entry("b")] } } as OperationRequest<"update_route">,
      { author: "t" },
    ).catch(() => undefined);
    const failed = await store.getVersion(route(channelId), 2);
    expect(failed?.status).toBe("FAILED");
    if (failed === undefined) return;

    // Recovery undoes it and is killed at the publish of its alert.
    const proc = killableProcess((client) => client === "sns");
    const killedStore = new ConfigStore({ client: proc.documents, tableName });
    await expect(undoVersion(undoDeps(killedStore, proc.sns), failed)).rejects.toThrow(Killed);
    const undone = await store.getVersion(route(channelId), 2);
    expect(undone?.status).toBe("ROLLED_BACK");
    expect(undone?.alerted_at).toBeDefined();
    expect(await topic.take()).toEqual([]);

    // The stream delivers the record again: the version is finished and alerted, nothing more is sent.
    await undoVersion(undoDeps(store, sns), failed);
    expect(await topic.take()).toEqual([]);

    // The sweep, after the lease: the alert, once, with the version's key as its id.
    expect(await sweep(store.outbox, topic.topicArn, Date.now() + OUTBOX_LEASE_MS + 1)).toEqual({ published: 1, failed: 0 });
    const messages = await topic.take();
    expect(messages.map((m) => [m.body.type, m.body.object, m.body.failed_version])).toEqual([["config.rolled_back", `route#${channelId}`, 2]]);
    expect(messages[0]?.body.alert_id).toBe(`config#${failed.pk}#${failed.sk}`);
    expect(messages[0]?.attributes.alert_id).toBe(messages[0]?.body.alert_id);
    expect(await sweep(store.outbox, topic.topicArn, Date.now() + OUTBOX_LEASE_MS + MINUTE)).toEqual({ published: 0, failed: 0 });
    expect(await topic.take()).toEqual([]);
    expect((await store.getVersion(route(channelId), 2))?.status).toBe("ROLLED_BACK");
  });
});

// ---- command final alert ------------------------------------------------------------------------

describe("command final alert", () => {
  it("killed after the command was marked alerted, before SNS took its final alert: a second raise sends none, the outbox sweep sends it once", async () => {
    const tableName = `alert-crash-cmd-${randomBytes(6).toString("hex")}`;
    await dynamo.send(new CreateTableCommand(tableSpec(TABLES.commands, tableName)));
    const documents = DynamoDBDocumentClient.from(dynamo);
    const topic = await alertTopic();
    const messageId = `crash.${randomUUID()}`;
    await documents.send(new PutCommand({ TableName: tableName, Item: { pk: commandPk(messageId), sk: META_SK, message_id: messageId, status: "FAILED" } }));
    const counts = { ...zeroCounts(), FAILED: 2 };
    const alert: CommandAlert = {
      type: "command.failed",
      severity: severityOf("command.failed"),
      object: `command#${messageId}`,
      summary: `command ${messageId} failed on 2 of 2 agents`,
      at: new Date().toISOString(),
      source: "gse-control/commands",
      message_id: messageId,
      status: "FAILED",
      targets: 2,
      counts,
      sample: [],
    };

    const proc = killableProcess((client) => client === "sns");
    const killedDeps = {
      table: { client: proc.documents, tableName },
      alerts: createAlertPublisher({ sns: proc.sns, topicArn: topic.topicArn }),
      now: Date.now,
    };
    await expect(raiseCommandAlert(killedDeps, counts, alert)).rejects.toThrow(Killed);
    const meta = await documents.send(new GetCommand({ TableName: tableName, Key: { pk: commandPk(messageId), sk: META_SK }, ConsistentRead: true }));
    expect(meta.Item?.alerted_at).toBeDefined();
    expect(meta.Item?.counts).toEqual(counts);
    expect(await topic.take()).toEqual([]);

    // Whoever ends the command again (a redelivered record, the sweep) finds it alerted: nothing sent.
    const healthy = { table: { client: documents, tableName }, alerts: createAlertPublisher({ sns, topicArn: topic.topicArn }), now: Date.now };
    expect(await raiseCommandAlert(healthy, counts, alert)).toBe(false);
    expect(await topic.take()).toEqual([]);

    const outbox = new Outbox({ client: documents, table: tableName });
    expect(await sweep(outbox, topic.topicArn, Date.now() + OUTBOX_LEASE_MS + 1)).toEqual({ published: 1, failed: 0 });
    const messages = await topic.take();
    expect(messages.map((m) => [m.body.type, m.body.message_id, m.body.alert_id, m.attributes.alert_id])).toEqual([
      ["command.failed", messageId, commandAlertId(messageId), commandAlertId(messageId)],
    ]);
    expect(await sweep(outbox, topic.topicArn, Date.now() + OUTBOX_LEASE_MS + MINUTE)).toEqual({ published: 0, failed: 0 });
    expect(await topic.take()).toEqual([]);
  });
});
