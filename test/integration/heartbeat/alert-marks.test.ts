/**
 * A transition the heartbeat alerts about is one plain conditional update of the agent (with the
 * alert's mark on it, lib/heartbeat/alert-marks.ts), no transaction and no alert item per agent;
 * the poll's alert is counted from its shards' results, and sent once however often a shard runs.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it, vi } from "vitest";
import { registerAgents } from "../../../lib/fleet/service.ts";
import { FleetStore, newFleetCalls } from "../../../lib/fleet/store.ts";
import { HEARTBEAT_SHARD_JOB, runShard, startPoll, type HeartbeatDeps, type HeartbeatShardJob } from "../../../lib/heartbeat/poll.ts";
import { localClientConfig } from "../../../local/aws.ts";
import { addSimAgents, setSimStatus, testHeartbeat, type TestHeartbeat } from "../../helpers/heartbeat.ts";
import { useStack } from "../../helpers/stack.ts";

const { info } = useStack();
const MINUTE = 60_000;

interface SentCall {
  readonly command: string;
  readonly input: string;
}

/** The heartbeat's deps on a DynamoDB client that records every call it sends (command and input as JSON). */
function recordingHeartbeat(hb: TestHeartbeat): { deps: HeartbeatDeps; sent: SentCall[] } {
  const sent: SentCall[] = [];
  const client = new DynamoDBClient(localClientConfig(info.dynamodbEndpoint));
  client.middlewareStack.add(
    (next, context) => async (args) => {
      sent.push({ command: String(context.commandName), input: JSON.stringify(args.input) });
      return next(args);
    },
    { step: "initialize", name: "recordCalls" },
  );
  const store = new FleetStore({ client: DynamoDBDocumentClient.from(client), tableName: hb.store.tableName });
  return { deps: { ...hb.deps, store }, sent };
}

interface LoggedLine {
  readonly level: "warn" | "error";
  readonly message: string;
  readonly agent_id: unknown;
}

/** A logger that keeps its warnings and errors (message and agent), sorted by level then agent for a stable order. */
function recordingLogger(): { logger: Logger; logged(): LoggedLine[] } {
  const lines: LoggedLine[] = [];
  const logger = new Logger({ logLevel: "SILENT" });
  const keep =
    (level: LoggedLine["level"]) =>
    (message: unknown, ...extra: unknown[]) => {
      const fields = extra.find((e): e is Record<string, unknown> => typeof e === "object" && e !== null);
      lines.push({ level, message: String(message), agent_id: fields?.agent_id });
    };
  vi.spyOn(logger, "warn").mockImplementation(keep("warn"));
  vi.spyOn(logger, "error").mockImplementation(keep("error"));
  return {
    logger,
    logged() {
      return [...lines].sort((a, b) => b.level.localeCompare(a.level) || String(a.agent_id).localeCompare(String(b.agent_id)));
    },
  };
}

const fleetDeps = (hb: TestHeartbeat) => ({ store: hb.store, now: () => hb.clock.now, settings: { evictAfterSeconds: 30 * 86_400 } });

describe("heartbeat alert marks", () => {
  it("writes a lost agent once, in a conditional update without a transaction, and sends its alert once", async () => {
    const hb = await testHeartbeat({ lostAfterPolls: 2, alertSample: 3 });
    const { ids } = await addSimAgents(info, 5);
    await registerAgents(fleetDeps(hb), ids, "api");
    hb.clock.now += MINUTE;
    await startPoll(hb.deps, hb.clock.now);
    await setSimStatus(info, ids, 3);
    hb.clock.now += MINUTE;
    await startPoll(hb.deps, hb.clock.now); // suspect: each written once, no alert
    expect(await hb.takeAlerts()).toEqual([]);

    const { deps, sent } = recordingHeartbeat(hb);
    hb.clock.now += MINUTE;
    const lostPoll = await startPoll(deps, hb.clock.now);
    const agentWrites = sent.filter((c) => ids.some((id) => c.input.includes(`"agent#${id}"`)));
    expect(agentWrites.map((c) => c.command).sort()).toEqual(ids.map(() => "UpdateItemCommand"));
    expect(agentWrites.every((c) => c.input.includes('"ConditionExpression":"rev = :rev"'))).toBe(true);
    // Transactions are the poll's alerts into the outbox only: none holds an agent, and no per-agent alert item is written.
    expect(sent.filter((c) => c.command === "TransactWriteItemsCommand" && c.input.includes('"agent#')).length).toBe(0);
    expect(sent.some((c) => c.input.includes("alertx#"))).toBe(false);
    const agent = await hb.store.getAgent(ids[0]!, newFleetCalls());
    expect(agent?.status).toBe("lost");
    // Beside the mark of its first sighting two polls ago (within the horizon, so kept).
    expect(agent?.alerts_due?.[lostPoll.pollId]).toBe("0#lost#alive");
    expect(Object.values(agent?.alerts_due ?? {}).sort()).toEqual(["0#lost#alive", "0#newly_seen#pending"]);

    const alerts = await hb.takeAlerts();
    expect(alerts.map((a) => [a.kind, a.count, a.truncated])).toEqual([["lost", 5, true]]);
    // The sample is the first agents by id, whichever order their writes landed in.
    expect(alerts[0]?.sample.map((s) => s.agent_id)).toEqual([...ids].sort().slice(0, 3));
    expect(alerts[0]?.sample.every((s) => s.status === "lost" && s.status_code === 3 && s.status_class === "degraded")).toBe(true);

    hb.clock.now += MINUTE;
    await startPoll(hb.deps, hb.clock.now);
    expect(await hb.takeAlerts()).toEqual([]);
  });

  it("counts the alert of a write that landed though its answer was lost (an error, or a conflict on the SDK's retry), and not of one that did not land", async () => {
    const hb = await testHeartbeat();
    const { ids } = await addSimAgents(info, 4, { status_code: -2 });
    await registerAgents(fleetDeps(hb), ids, "api");
    const [answerLost, retriedIntoConflict, refused] = ids as [string, string, string];
    const flaky = Object.create(hb.store) as FleetStore;
    flaky.updateAgent = async (agent, ...rest) => {
      if (agent.agent_id === refused) throw new Error("ProvisionedThroughputExceededException");
      const written = await hb.store.updateAgent(agent, ...rest);
      if (agent.agent_id === answerLost) throw new Error("socket hang up");
      return agent.agent_id === retriedIntoConflict ? false : written;
    };
    const { logger, logged } = recordingLogger();
    hb.clock.now += MINUTE;
    const first = await startPoll({ ...hb.deps, store: flaky, logger }, hb.clock.now);
    // The write whose answer was lost landed: it is no failure; the refused one is.
    expect(first.first?.result.write_failures).toBe(1);
    const alerts = await hb.takeAlerts();
    expect(alerts.map((a) => [a.kind, a.sample.map((s) => s.agent_id)])).toEqual([["unknown", ids.filter((id) => id !== refused).sort()]]);
    // Logged as what each was: the refused write an error, the one that landed after an error a warning; the conflict that landed neither.
    expect(logged().filter((l) => l.message.startsWith("heartbeat agent write"))).toEqual([
      { level: "warn", message: "heartbeat agent write landed after an ambiguous answer (read back)", agent_id: answerLost },
      { level: "error", message: "heartbeat agent write failed", agent_id: refused },
    ]);

    // The next poll writes the refused one and alerts it alone; the others are not alerted again.
    hb.clock.now += MINUTE;
    await startPoll(hb.deps, hb.clock.now);
    expect((await hb.takeAlerts()).map((a) => [a.kind, a.sample.map((s) => s.agent_id)])).toEqual([["unknown", [refused]]]);
  });

  it("sends a poll's alert once when its shard runs again after it finished (the job delivered twice)", async () => {
    const hb = await testHeartbeat({ lostAfterPolls: 1 });
    const { ids } = await addSimAgents(info, 3);
    await registerAgents(fleetDeps(hb), ids, "api");
    hb.clock.now += MINUTE;
    await startPoll(hb.deps, hb.clock.now);
    await setSimStatus(info, ids, 3);
    hb.clock.now += MINUTE;
    const started = await startPoll(hb.deps, hb.clock.now);
    expect((await hb.takeAlerts()).map((a) => [a.kind, a.count])).toEqual([["lost", 3]]);

    const job: HeartbeatShardJob = {
      type: HEARTBEAT_SHARD_JOB,
      poll_id: started.pollId,
      at: hb.clock.now,
      shard: "0",
      partitions: started.first?.result.partitions ?? [],
    };
    // The re-run counts the marked agents again in its own result; the first result stored is the one the poll keeps.
    const again = await runShard(hb.deps, job);
    expect(again.result.alerts.lost?.count).toBe(3);
    expect(again.finished).toBe(false);
    await runShard(hb.deps, job);
    expect(await hb.takeAlerts()).toEqual([]);
  });
});
