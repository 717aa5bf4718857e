/**
 * The heartbeat in steady state: 10 consecutive polls (`--agents N`, default 10,000; 100,000 works)
 * of one warm instance, each after 1 % of the fleet changed class in GSE, against the naive poll
 * (read the whole fleet, ask GSE, put every agent back) with the same chunk size, GSE concurrency,
 * read and write concurrency, in the same run on the same parts: DynamoDB Local (in memory), the
 * GSE simulator, the SNS/SQS emulator. Figures are medians over the polls. measureHeartbeat gives
 * them to the cost benchmark.
 *
 * What changes before poll i (of the agents running at the start, a new 1 % each poll, in thirds):
 * one third goes down (3 lossy) and stays down, so its misses build up and it is lost K polls on;
 * one third flaps (lossy this poll, running the next); one third goes to another class
 * (5 upgrading this poll, running the next).
 */
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { CreateTopicCommand, SNSClient } from "@aws-sdk/client-sns";
import { BatchWriteCommand, DynamoDBDocumentClient, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { startFauxqs } from "fauxqs";
import getPort from "get-port";
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import pLimit from "p-limit";
import { GseClient } from "../lib/gse/client.ts";
import { FleetCache } from "../lib/heartbeat/fleet-cache.ts";
import { observeChunk } from "../lib/heartbeat/observe.ts";
import { startPoll, type HeartbeatSettings } from "../lib/heartbeat/poll.ts";
import { TABLES } from "../lib/resources.ts";
import { agentKey, FLEET_PARTITIONS, FleetStore, newFleetCalls, type FleetAgent } from "../lib/fleet/store.ts";
import { readUnitsOf } from "../lib/fleet/table.ts";
import { chunk } from "../lib/dynamo/batch.ts";
import { localClientConfig } from "../local/aws.ts";
import { startDynamoDbLocal, tableSpec } from "../local/dynamodb.ts";
import { startGseSimulator, type GseSimulator } from "../local/gse-simulator/index.ts";
import { createLogSink } from "../local/process.ts";
import { fmt, type Benchmark, type BenchmarkOptions } from "./stats.ts";
import { statusClassOf } from "../lib/gse/status-class.ts";

const DEFAULT_AGENTS = 10_000;
const DEFAULT_POLLS = 10;
/** The naive poll keeps no state between polls: a few polls give its median. */
const DEFAULT_NAIVE_POLLS = 3;
const CHANGING = 0.01;
const SEED_CONCURRENCY = 8;
/** The store's own: partitions read, and batch writes, this many at a time (lib/fleet/table.ts). */
const DYNAMO_CONCURRENCY = 16;

/** One poll in one invocation, the product's defaults otherwise; the agent-state bench polls with them too. */
export const SETTINGS: HeartbeatSettings = {
  chunkSize: 1000,
  concurrency: 5,
  useNewAgentStatusApi: true,
  lostAfterPolls: 3,
  transitionalGraceMs: 15 * 60_000,
  // One invocation does the whole poll here, so a poll measures the poll and not the fan-out.
  budgetMs: 600_000,
  evictAfterSeconds: 30 * 86_400,
  alertSample: 20,
  alertDedupMs: 3_600_000,
  writeConcurrency: 16,
};

/** One poll's counts and time. */
export interface PollFigures {
  readonly poll: number;
  readonly wallMs: number;
  readonly gseCalls: number;
  readonly writeUnits: number;
  readonly readUnits: number;
  /** DynamoDB calls (a BatchWriteItem or a transaction is one call), for the cost model's latency. */
  readonly readCalls: number;
  readonly writeCalls: number;
  /** This process's CPU time during the poll (user + system): ours, and the in-process GSE simulator's. */
  readonly cpuMs: number;
  /** Agents written: a change of class, status or of what GSE answered. */
  readonly transitions: number;
  /** Of the write units, the agents' own (their items and history). */
  readonly agentWriteUnits?: number;
  readonly historyItems?: number;
  readonly partitionsRead?: number;
  readonly lost?: number;
}

/** The `json` of `npm run bench heartbeat -- --json`: medians over the polls. */
export interface HeartbeatFigures {
  readonly agents: number;
  readonly polls: number;
  readonly gse_calls_per_poll: number;
  readonly write_units_per_poll: number;
  readonly transitions_per_poll: number;
  readonly write_units_per_transition: number;
  readonly history_items_per_poll: number;
  /** Write units beyond one per agent written and one per history item: the poll's bookkeeping, and its alerts' samples. */
  readonly bookkeeping_write_units_per_poll: number;
  readonly lost_per_poll: number;
  readonly read_units_per_poll: number;
  readonly partitions_read_per_poll: number;
  readonly full_read_units: number;
  readonly read_share_of_full: number;
  readonly wall_ms_per_poll: number;
  readonly naive_polls: number;
  readonly naive_wall_ms_per_poll: number;
  readonly naive_write_units_per_poll: number;
  readonly naive_read_units_per_poll: number;
  readonly naive_gse_calls_per_poll: number;
  readonly wall_ratio: number;
  /** The poll's GSE calls alone (same chunks, same concurrency, no DynamoDB): the floor both polls share. */
  readonly gse_alone_ms: number;
  /** Write units of a poll in which no agent changed (the warm-up): the poll's own bookkeeping, summary and chart point. */
  readonly quiet_poll_write_units: number;
  readonly load_before: number;
  readonly load_after: number;
  /** Heap the warm instance's fleet (lib/heartbeat/fleet-cache.ts) holds after the polls: heap used with it minus without it, each after a full GC. */
  readonly warm_cache_heap_mb: number;
}

export interface HeartbeatMeasurement {
  readonly figures: HeartbeatFigures;
  readonly ours: readonly PollFigures[];
  readonly naive: readonly PollFigures[];
}

/** One figure per count, each the median over the polls: what the cost model prices. */
export function medianPoll(polls: readonly PollFigures[]): {
  gseCalls: number;
  readCalls: number;
  readUnits: number;
  writeCalls: number;
  writeUnits: number;
  historyItems: number;
  cpuMs: number;
} {
  const m = (pick: (p: PollFigures) => number): number => median(polls.map(pick));
  return {
    gseCalls: m((p) => p.gseCalls),
    readCalls: m((p) => p.readCalls),
    readUnits: m((p) => p.readUnits),
    writeCalls: m((p) => p.writeCalls),
    writeUnits: m((p) => p.writeUnits),
    historyItems: m((p) => p.historyItems ?? 0),
    cpuMs: m((p) => p.cpuMs),
  };
}

interface Parts {
  readonly dynamo: DynamoDBClient;
  readonly doc: DynamoDBDocumentClient;
  readonly sim: GseSimulator;
  readonly gse: GseClient;
  readonly sns: SNSClient;
  readonly topicArn: string;
}

/**
 * An agent as the rules leave it after many polls in its state: alive, transitional for long (still
 * alive, its last_seen fixed when it stopped running, reported stuck once already), lost after K
 * misses, or unknown. So a poll writes only what the changes make.
 */
function steadyItem(view: { legacy_id: string; version: string; run_mode: number; status_code: number; bk_cloud_id: number }, at: number): FleetAgent {
  const statusClass = statusClassOf(view.status_code);
  const alive = statusClass === "alive";
  const transitional = statusClass === "transitional";
  const down = statusClass === "degraded" || statusClass === "gone";
  return {
    agent_id: view.legacy_id,
    registered_at: at - 3_600_000,
    sources: ["api"],
    status: alive || transitional ? "alive" : down ? "lost" : "unknown",
    misses: down ? 3 : 0,
    first_seen_at: at - 3_600_000,
    seen_at: at - (alive ? 0 : 600_000),
    changed_at: at - 600_000,
    bk_cloud_id: view.bk_cloud_id,
    version: view.version,
    run_mode: view.run_mode,
    status_code: view.status_code,
    status_class: statusClass,
    ...(transitional ? { transitional_since: at - 3_600_000, stuck_at: at - 600_000 } : {}),
    record: { bk_agent_id: view.legacy_id, bk_cloud_id: view.bk_cloud_id, version: view.version, run_mode: view.run_mode, status_code: view.status_code },
    rev: 1,
    ...(alive ? {} : { expires_at: Math.floor(at / 1000) + 86_400 }),
  };
}

async function seed(doc: DynamoDBDocumentClient, table: string, items: readonly FleetAgent[]): Promise<void> {
  const limit = pLimit(SEED_CONCURRENCY);
  await Promise.all(
    chunk(items, 25).map((part) =>
      limit(async () => {
        let pending = part.map((item) => ({ PutRequest: { Item: { ...agentKey(item.agent_id), ...item } } }));
        while (pending.length > 0) {
          const out = await doc.send(new BatchWriteCommand({ RequestItems: { [table]: pending } }));
          pending = (out.UnprocessedItems?.[table] ?? []) as typeof pending;
        }
      }),
    ),
  );
}

/**
 * The naive poll, with the heartbeat's own concurrency: read every partition (16 at a time), ask
 * GSE in chunks of 1000 (5 in flight), and put every agent back with its new state and last_seen
 * (no comparison, no condition), 25 items a call, 16 calls in flight.
 */
async function naivePoll(parts: Parts, table: string, poll: number, at: number): Promise<PollFigures> {
  const { doc, gse } = parts;
  const started = performance.now();
  const cpu = process.cpuUsage();
  const calls = newFleetCalls();
  const dynamoLimit = pLimit(DYNAMO_CONCURRENCY);
  const pages = await Promise.all(
    Array.from({ length: FLEET_PARTITIONS }, (_, p) =>
      dynamoLimit(async () => {
        const agents: FleetAgent[] = [];
        let start: Record<string, unknown> | undefined;
        do {
          calls.reads++;
          const out = await doc.send(
            new QueryCommand({
              TableName: table,
              KeyConditionExpression: "pk = :pk",
              ExpressionAttributeValues: { ":pk": `fleet#${String(p).padStart(2, "0")}` },
              ReturnConsumedCapacity: "TOTAL",
              ...(start ? { ExclusiveStartKey: start } : {}),
            }),
          );
          calls.readUnits += readUnitsOf(out.ConsumedCapacity);
          agents.push(...((out.Items ?? []) as FleetAgent[]));
          start = out.LastEvaluatedKey;
        } while (start !== undefined);
        return agents;
      }),
    ),
  );
  const gseLimit = pLimit(SETTINGS.concurrency);
  let gseCalls = 0;
  await Promise.all(
    chunk(pages.flat(), SETTINGS.chunkSize).map((part) =>
      gseLimit(async () => {
        gseCalls++;
        const observed = await observeChunk(
          gse,
          true,
          part.map((a) => a.agent_id),
        );
        await Promise.all(chunk(part, 25).map((batch) => dynamoLimit(() => putBack(doc, table, batch, observed, at, calls))));
      }),
    ),
  );
  return {
    poll,
    wallMs: performance.now() - started,
    gseCalls,
    writeUnits: calls.writeUnits,
    readUnits: calls.readUnits,
    readCalls: calls.reads,
    writeCalls: calls.writes,
    cpuMs: cpuMsSince(cpu),
    transitions: 0,
  };
}

const cpuMsSince = (from: NodeJS.CpuUsage): number => {
  const used = process.cpuUsage(from);
  return (used.user + used.system) / 1000;
};

async function putBack(
  doc: DynamoDBDocumentClient,
  table: string,
  batch: readonly FleetAgent[],
  observed: Awaited<ReturnType<typeof observeChunk>>,
  at: number,
  calls: ReturnType<typeof newFleetCalls>,
): Promise<void> {
  let pending = batch.map((agent) => {
    const o = observed.get(agent.agent_id);
    const alive = o?.facts.alive ?? false;
    const Item = {
      ...agentKey(agent.agent_id),
      ...agent,
      status: alive ? "alive" : "lost",
      status_code: o?.facts.status_code ?? -1,
      seen_at: alive ? at : agent.seen_at,
      changed_at: at,
      rev: agent.rev + 1,
    };
    return { PutRequest: { Item } };
  });
  while (pending.length > 0) {
    calls.writes++;
    const out = await doc.send(new BatchWriteCommand({ RequestItems: { [table]: pending }, ReturnConsumedCapacity: "TOTAL" }));
    calls.writeUnits += out.ConsumedCapacity?.[0]?.CapacityUnits ?? pending.length;
    pending = (out.UnprocessedItems?.[table] ?? []) as typeof pending;
  }
}

/** One poll of the warm instance (one shard: the budget is raised so the whole poll is one invocation). */
async function ourPoll(parts: Parts, store: FleetStore, cache: FleetCache, poll: number, at: number): Promise<PollFigures> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  // Real time from the poll's own time on, so the shard's phase timings are real.
  const now = (): number => at + Math.round(performance.now() - started);
  const deps = { store, gse: parts.gse, sns: parts.sns, topicArn: parts.topicArn, enqueue: async () => undefined, now, settings: SETTINGS, fleetCache: cache };
  const outcome = await startPoll(deps, at);
  const wallMs = performance.now() - started;
  const cpuMs = cpuMsSince(cpu);
  const first = outcome.first;
  if (!first || outcome.shards !== 1) throw new Error(`expected the poll to run in one shard, got ${outcome.shards}`);
  const history = Object.values(first.result.transitions).reduce((a, b) => a + (b ?? 0), 0);
  return {
    poll,
    wallMs,
    gseCalls: first.result.gse_calls,
    writeUnits: outcome.calls.writeUnits + first.calls.writeUnits,
    readUnits: outcome.calls.readUnits + first.calls.readUnits,
    readCalls: outcome.calls.reads + first.calls.reads,
    writeCalls: outcome.calls.writes + first.calls.writes,
    cpuMs,
    transitions: first.result.agents_written ?? 0,
    historyItems: history,
    partitionsRead: first.result.partitions_read ?? 0,
    lost: first.result.transitions.lost ?? 0,
  };
}

/** One pass of GSE calls over the fleet, as a poll makes them, and nothing else (ms). */
async function gseAloneMs(parts: Parts, ids: readonly string[]): Promise<number> {
  const started = performance.now();
  const limit = pLimit(SETTINGS.concurrency);
  await Promise.all(chunk(ids, SETTINGS.chunkSize).map((part) => limit(() => observeChunk(parts.gse, true, part))));
  return performance.now() - started;
}

/** The changes made before poll `poll` (1-based) to the agents running at the start. */
function changesBefore(running: readonly string[], perPoll: number, poll: number): Map<number, string[]> {
  const byCode = new Map<number, string[]>();
  const add = (code: number, id: string): void => void byCode.set(code, [...(byCode.get(code) ?? []), id]);
  const group = (n: number): string[] => running.slice((n - 1) * perPoll, n * perPoll);
  for (const [j, id] of group(poll).entries()) add(j % 3 === 2 ? 5 : 3, id);
  // Last poll's flappers and upgraders are running again; its third one stays down.
  if (poll > 1) for (const [j, id] of group(poll - 1).entries()) if (j % 3 !== 0) add(2, id);
  return byCode;
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return 0;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

async function withParts<T>(agents: number, work: (parts: Parts) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), "gse-bench-heartbeat-"));
  const log = createLogSink(join(dir, "dynamodb.log"));
  const [dynamodb, fauxqs, sim] = await Promise.all([
    getPort().then((port) => startDynamoDbLocal({ port, log })),
    startFauxqs({ port: 0, logger: false }),
    startGseSimulator({ agents, tickMs: 0, credentials: [{ bk_app_code: "bench", bk_app_secret: "bench-secret-value" }] }),
  ]);
  const dynamo = new DynamoDBClient(localClientConfig(dynamodb.endpoint));
  const sns = new SNSClient(localClientConfig(`http://127.0.0.1:${fauxqs.port}`));
  try {
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: "bench-alerts" }));
    const gse = new GseClient({
      gse: { baseUrl: sim.url, flavour: "v2", appCode: "bench", appSecret: "bench-secret-value", username: "admin", timeoutMs: 30_000, maxAttempts: 2 },
    });
    return await work({ dynamo, doc: DynamoDBDocumentClient.from(dynamo), sim, gse, sns, topicArn: TopicArn ?? "" });
  } finally {
    dynamo.destroy();
    sns.destroy();
    await Promise.all([dynamodb.stop(), fauxqs.stop(), sim.stop()]);
    await log.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The steady-state figures for a fleet of `agents`: a warm-up poll (the instance reads the whole
 * fleet once), then `polls` polls each after 1 % of the fleet changed; the naive poll runs after
 * ours on the first `naivePolls` of them, against the same GSE state, on a table of its own.
 */
/** Heap used after a full GC: V8 lets a process turn `gc` on at run time and reach it from a new context. */
function heapAfterGc(): number {
  setFlagsFromString("--expose-gc");
  (runInNewContext("gc") as () => void)();
  return process.memoryUsage().heapUsed;
}

export async function measureHeartbeat(options: { agents?: number; polls?: number; naivePolls?: number } = {}): Promise<HeartbeatMeasurement> {
  const agents = options.agents ?? DEFAULT_AGENTS;
  const polls = options.polls ?? DEFAULT_POLLS;
  const naivePolls = Math.min(polls, options.naivePolls ?? DEFAULT_NAIVE_POLLS);
  return withParts(agents, async (parts) => {
    const stamp = Date.now();
    const tables = { ours: `bench-ours-${agents}-${stamp}`, naive: `bench-naive-${agents}-${stamp}` };
    await Promise.all(Object.values(tables).map((t) => parts.dynamo.send(new CreateTableCommand(tableSpec(TABLES.fleet, t)))));
    try {
      const views = parts.sim.listAgents({ offset: 0, limit: agents });
      const at = Date.UTC(2026, 10, 25, 12, 0, 0);
      const items = views.map((v) => steadyItem(v, at));
      await seed(parts.doc, tables.ours, items);
      await seed(parts.doc, tables.naive, items);
      const store = new FleetStore({ client: parts.doc, tableName: tables.ours });
      const full = newFleetCalls();
      await store.agentsOf(
        Array.from({ length: FLEET_PARTITIONS }, (_, p) => p),
        full,
      );
      let cache = new FleetCache();
      const loadBefore = loadavg()[0] ?? 0;
      // The warm-up: the cold instance reads the whole fleet; nothing changed.
      const warmUp = await ourPoll(parts, store, cache, 0, at + 60_000);
      const running = views.filter((v) => v.status_code === 2).map((v) => v.legacy_id);
      const perPoll = Math.max(3, Math.round(agents * CHANGING));
      if (running.length < perPoll * polls) throw new Error(`too few running agents (${running.length}) for ${polls} polls of ${perPoll} changes`);
      const ours: PollFigures[] = [];
      const naive: PollFigures[] = [];
      for (let poll = 1; poll <= polls; poll++) {
        for (const [code, ids] of changesBefore(running, perPoll, poll)) parts.sim.setAgentStatus(ids, code);
        const pollAt = at + (poll + 1) * 60_000;
        const figures = await ourPoll(parts, store, cache, poll, pollAt);
        ours.push(figures);
        process.stdout.write(
          `poll ${poll}: ${Math.round(figures.wallMs)} ms, ${figures.transitions} agents written, ${fmt(figures.writeUnits, 0)} WCU, ${fmt(figures.readUnits, 1)} RCU, ${figures.partitionsRead} partitions read\n`,
        );
        if (poll <= naivePolls) {
          const n = await naivePoll(parts, tables.naive, poll, pollAt);
          naive.push(n);
          process.stdout.write(`naive ${poll}: ${Math.round(n.wallMs)} ms, ${fmt(n.writeUnits, 0)} WCU, ${fmt(n.readUnits, 1)} RCU\n`);
        }
      }
      const withCache = heapAfterGc();
      cache = new FleetCache();
      const warmCacheHeapMb = Math.max(0, withCache - heapAfterGc()) / 1024 / 1024;
      const gseAlone = await gseAloneMs(
        parts,
        views.map((v) => v.legacy_id),
      );
      const m = (pick: (p: PollFigures) => number, of: readonly PollFigures[] = ours): number => median(of.map(pick));
      const figures: HeartbeatFigures = {
        agents,
        polls,
        gse_calls_per_poll: m((p) => p.gseCalls),
        write_units_per_poll: m((p) => p.writeUnits),
        transitions_per_poll: m((p) => p.transitions),
        write_units_per_transition: Number(m((p) => p.writeUnits / Math.max(1, p.transitions)).toFixed(3)),
        history_items_per_poll: m((p) => p.historyItems ?? 0),
        bookkeeping_write_units_per_poll: m((p) => p.writeUnits - p.transitions - (p.historyItems ?? 0)),
        lost_per_poll: m((p) => p.lost ?? 0),
        read_units_per_poll: m((p) => p.readUnits),
        partitions_read_per_poll: m((p) => p.partitionsRead ?? 0),
        full_read_units: full.readUnits,
        read_share_of_full: Number((m((p) => p.readUnits) / Math.max(1, full.readUnits)).toFixed(4)),
        wall_ms_per_poll: Math.round(m((p) => p.wallMs)),
        naive_polls: naive.length,
        naive_wall_ms_per_poll: Math.round(m((p) => p.wallMs, naive)),
        naive_write_units_per_poll: m((p) => p.writeUnits, naive),
        naive_read_units_per_poll: m((p) => p.readUnits, naive),
        naive_gse_calls_per_poll: m((p) => p.gseCalls, naive),
        wall_ratio: Number(
          (
            m((p) => p.wallMs, naive) /
            Math.max(
              1,
              m((p) => p.wallMs),
            )
          ).toFixed(2),
        ),
        gse_alone_ms: Math.round(gseAlone),
        quiet_poll_write_units: warmUp.writeUnits,
        load_before: Number(loadBefore.toFixed(2)),
        load_after: Number((loadavg()[0] ?? 0).toFixed(2)),
        warm_cache_heap_mb: Number(warmCacheHeapMb.toFixed(1)),
      };
      return { figures, ours, naive };
    } finally {
      await Promise.all(Object.values(tables).map((t) => parts.dynamo.send(new DeleteTableCommand({ TableName: t }))));
    }
  });
}

export const heartbeatBenchmark: Benchmark = {
  name: "heartbeat",
  async run(options: BenchmarkOptions = {}) {
    const { figures: f, ours, naive } = await measureHeartbeat(options.agents === undefined ? {} : { agents: options.agents });
    const perPoll = ours.map(
      (p) =>
        `| ${p.poll} | ${p.transitions} | ${p.historyItems ?? 0} | ${p.lost ?? 0} | ${p.gseCalls} | ${fmt(p.writeUnits, 0)} | ${fmt(p.readUnits, 1)} | ${p.partitionsRead ?? 0} | ${fmt(p.wallMs, 0)} | ${naive.find((n) => n.poll === p.poll) ? fmt(naive.find((n) => n.poll === p.poll)?.wallMs ?? 0, 0) : "–"} |`,
    );
    const report = [
      `The heartbeat in steady state over ${f.polls} consecutive polls of one warm instance, ${f.agents.toLocaleString("en")} agents, each poll after`,
      "1 % of the fleet changed class in GSE (a new 1 % each poll, in thirds: down to 3 lossy for good, so it is lost K = 3 polls on;",
      "lossy for one poll; 5 upgrading for one poll). DynamoDB Local in memory, the GSE simulator and the SNS/SQS emulator on this machine.",
      "Heartbeat poll = `startPoll` (lib/heartbeat/poll.ts): `meta`/`polled` read, partitions re-read only where their revision moved",
      "(and one a minute in turn), chunks of 1000 ids, 5 GSE calls in flight, conditional writes of the agents whose class, status or",
      "answer changed (none while an agent only counts misses; an alert rides on that write), their history, the poll's bookkeeping, summary and alerts",
      "(one shard: the budget is raised so the whole poll is one invocation). Naive poll = read the whole fleet (16 partitions at a time),",
      "ask GSE in chunks of 1000 with 5 in flight, put every agent back 25 to a call with 16 in flight: the same concurrency, same run.",
      "Write and read units are what DynamoDB Local reports (ReturnConsumedCapacity). Medians over the polls.",
      `Machine load (1-minute load average) at the start and end: ${fmt(f.load_before, 1)} and ${fmt(f.load_after, 1)} on 2 cores;`,
      "wall times move with it, calls and units do not.",
      "",
      "| per poll (median) | heartbeat | naive |",
      "|---|---|---|",
      `| GSE calls | ${f.gse_calls_per_poll} | ${f.naive_gse_calls_per_poll} |`,
      `| agents written (class, status or answer changed) | ${f.transitions_per_poll} | ${f.agents.toLocaleString("en")} |`,
      `| write units | ${fmt(f.write_units_per_poll, 0)} (${fmt(f.write_units_per_transition, 2)} per agent written) | ${fmt(f.naive_write_units_per_poll, 0)} |`,
      `| read units | ${fmt(f.read_units_per_poll, 1)} (${fmt(100 * f.read_share_of_full, 1)} % of a full read, ${fmt(f.full_read_units, 1)}) | ${fmt(f.naive_read_units_per_poll, 1)} |`,
      `| wall ms | ${f.wall_ms_per_poll} | ${f.naive_wall_ms_per_poll} (${fmt(f.wall_ratio, 1)}×, ${f.naive_polls} polls) |`,
      `| of which GSE alone (same chunks and concurrency, no DynamoDB; once) | ${f.gse_alone_ms} | ${f.gse_alone_ms} |`,
      `| write units beyond one per agent written and one per history item (bookkeeping, and each alert's sample in its shard's result and the outbox) | ${fmt(f.bookkeeping_write_units_per_poll, 0)} | – |`,
      `| write units of a poll in which nothing changed (its bookkeeping) | ${fmt(f.quiet_poll_write_units, 0)} | – |`,
      `| heap the warm instance keeps its fleet in (after a full GC, with it minus without it) | ${fmt(f.warm_cache_heap_mb, 1)} MB | – |`,
      "",
      "| poll | agents written | history items | lost | GSE calls | write units | read units | partitions read | wall ms | naive wall ms |",
      "|---|---|---|---|---|---|---|---|---|---|",
      ...perPoll,
      "",
      "What this costs a month, priced line by line with a latency model of DynamoDB and GSE: the [cost section](#cost-per-month) (`npm run bench cost`).",
    ].join("\n");
    return { report, json: { ...f } };
  },
};
