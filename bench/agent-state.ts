import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SNSClient } from "@aws-sdk/client-sns";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import pLimit from "p-limit";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { request } from "undici";
import { MAX_AGENTS_PER_REQUEST } from "../lib/gse/schemas.ts";
import { GseClient } from "../lib/gse/client.ts";
import { DynamoFleetState, newFleetStateCalls } from "../lib/agent-state/fleet-state.ts";
import { DynamoAgentStore, newStoreCalls } from "../lib/agent-state/store.ts";
import { FleetStore } from "../lib/fleet/store.ts";
import { runShard, startPoll, type HeartbeatDeps, type HeartbeatShardJob } from "../lib/heartbeat/poll.ts";
import { localClientConfig } from "../local/aws.ts";
import type { StackInfo } from "../local/stack.ts";
import { fmt, summarize } from "./stats.ts";
import { SETTINGS } from "./heartbeat.ts";
import type { Benchmark, BenchmarkResult } from "./stats.ts";

/**
 * list_agent_state for 10,000 ids through our gateway (cache cold, warm, stale) against the same
 * ids asked of the GSE simulator directly, on a stack of its own. The stack's runtime logs one
 * "agent state lookup" line per request with the DynamoDB and GSE calls it made; those are summed.
 */
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const IDS = 10_000;
const GSE_CHUNK = 1000;
/** Per-request GSE concurrency (config gse.concurrency default). */
const CONCURRENCY_PER_REQUEST = 5;
/** Our route takes at most 5000 ids, so 10,000 ids are two requests sent together, as bk-job would. */
const REQUESTS = Math.ceil(IDS / MAX_AGENTS_PER_REQUEST);
/** The direct baseline gets as many GSE calls in flight as our two requests together. */
const DIRECT_CONCURRENCY = CONCURRENCY_PER_REQUEST * REQUESTS;
/** A short TTL so the "stale" round needs only a wait, not a rewrite of the table. */
const TTL_SECONDS = 60;
/** The memo's default age: long enough for a memo round after the write-back has drained. */
const MEMO_SECONDS = 30;
/** bk-nodeman's measured GSE latency for 1000 hosts (0.5–0.6 s, its gse v1 adapter comments). */
const MODELED_GSE_LATENCY_MS = 500;
/** Cold rounds per scenario: each needs ids never asked before. */
const COLD_SETS = 3;
/** Set 0 is the warm-up's and the direct baseline's; then each scenario's cold sets. */
const SETS = 1 + 2 * COLD_SETS;

interface Stack {
  readonly info: StackInfo;
  readonly child: ChildProcess;
  readonly dataDir: string;
}

async function startStack(): Promise<Stack> {
  const dataDir = mkdtempSync(join(tmpdir(), "gse-bench-agents-"));
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      "local/start.ts",
      "--in-memory",
      "--ports",
      "auto",
      "--json",
      "--random-secrets",
      "--agents",
      String(IDS * SETS),
      "--data-dir",
      dataDir,
    ],
    {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
      env: {
        ...process.env,
        AGENT_CACHE_TTL_SECONDS: String(TTL_SECONDS),
        AGENT_MEMO_SECONDS: String(MEMO_SECONDS),
        // The heartbeat would poll every agent this run registers, on the same two cores: kept out of the window.
        HEARTBEAT_EVERY_MINUTES: "1440",
      },
    },
  );
  let out = "";
  const info = await new Promise<StackInfo>((resolve, reject) => {
    child.stdout?.on("data", (c: Buffer) => {
      out += c.toString();
      const line = out.split("\n").find((l) => l.startsWith("GSE_CONTROL_READY "));
      if (line) resolve(JSON.parse(line.slice("GSE_CONTROL_READY ".length)) as StackInfo);
    });
    child.stderr?.on("data", (c: Buffer) => (out += c.toString()));
    child.once("exit", (code) => reject(new Error(`stack exited ${code}: ${out}`)));
  });
  return { info, child, dataDir };
}

async function stopStack(stack: Stack): Promise<void> {
  const exited = new Promise<void>((resolve) => stack.child.once("exit", () => resolve()));
  process.kill(-(stack.child.pid as number), "SIGINT");
  await exited;
  rmSync(stack.dataDir, { recursive: true, force: true });
}

async function sim(info: StackInfo, method: "GET" | "POST" | "DELETE", path: string, body?: unknown): Promise<unknown> {
  const res = await request(`${info.gseUrl}/_sim/${path}`, {
    method,
    headers: { authorization: `Bearer ${info.credentials.simulatorControlToken}`, "content-type": "application/json" },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return res.body.json();
}

async function idSet(info: StackInfo, set: number): Promise<string[]> {
  const { agents } = (await sim(info, "GET", `agents?offset=${set * IDS}&limit=${IDS}`)) as { agents: { legacy_id: string }[] };
  if (agents.length !== IDS) throw new Error(`the simulator listed ${agents.length} agents for set ${set}`);
  return agents.map((a) => a.legacy_id);
}

const gseCalls = async (info: StackInfo): Promise<number> =>
  ((await sim(info, "GET", "counters")) as { calls: Record<string, number> }).calls.list_agent_state ?? 0;

interface Lookup {
  ids: number;
  memo_hits: number;
  fleet: number;
  fleet_held: number;
  fetched: number;
  cold_guessed: number;
  queued: number;
  read_ms: number;
  fetch_ms: number;
  queue_ms?: number;
  duration_ms: number;
  fresh: number;
  gse_calls: number;
  written: number;
  renewed: number;
  dynamo_calls: { batchGet: number; batchWrite: number; batchStatement: number };
  fleet_calls: { batchGet: number; get: number };
}

function logged<T>(info: StackInfo, message: string): T[] {
  const path = join(info.logsDir, "runtime.log");
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l.includes(`"message":${JSON.stringify(message)}`))
    .map((l) => JSON.parse(l) as T);
}

const lookupLines = (info: StackInfo): Lookup[] => logged<Lookup>(info, "agent state lookup");

/** The automation function's write-back of one queued message. */
interface WriteBackLine {
  fetched_at: number;
  agents: number;
  first_seen: number;
  lag_ms: number;
  written: number;
  renewed: number;
  dynamo_calls: { batchGet: number; batchWrite: number; batchStatement: number };
}

interface Drain {
  /** From the answer until the last queued agent was written. */
  readonly ms: number;
  readonly messages: number;
  readonly written: number;
  readonly renewed: number;
  /** Write units of the agents table: one per item put or renewed (an item is well under 1 KB). */
  readonly writeUnits: number;
  readonly registered: number;
  readonly calls: string;
}

/** Waits for the automation function to write back every agent the round queued (jobs fetched since it began). */
async function drained(info: StackInfo, round: Round): Promise<Drain> {
  const queued = round.lookups.reduce((a, l) => a + l.queued, 0);
  const deadline = Date.now() + 180_000;
  for (;;) {
    const lines = logged<WriteBackLine>(info, "agent state write-back").filter((l) => l.fetched_at >= round.startedAtMs);
    if (lines.reduce((a, l) => a + l.agents, 0) >= queued) {
      const sum = (pick: (l: WriteBackLine) => number): number => lines.reduce((a, l) => a + pick(l), 0);
      return {
        ms: performance.now() - round.answeredAt,
        messages: lines.length,
        written: sum((l) => l.written),
        renewed: sum((l) => l.renewed),
        writeUnits: sum((l) => l.written + l.renewed),
        registered: sum((l) => l.first_seen),
        calls: `${sum((l) => l.dynamo_calls.batchGet)} / ${sum((l) => l.dynamo_calls.batchWrite)} / ${sum((l) => l.dynamo_calls.batchStatement)}`,
      };
    }
    if (Date.now() > deadline) throw new Error(`write-back of ${queued} agents did not finish in 180 s`);
    await sleep(25);
  }
}

interface Round {
  readonly ms: number;
  /** Date.now() when the round began: its write-back jobs carry fetched_at at or after it. */
  readonly startedAtMs: number;
  /** performance.now() when the answer was in. */
  readonly answeredAt: number;
  readonly gse: number;
  readonly lookups: readonly Lookup[];
  readonly answered: number;
}

/** Our gateway: 10,000 ids as two concurrent requests of 5000. */
async function viaGateway(info: StackInfo, ids: readonly string[], noCache = false): Promise<Round> {
  const logged = lookupLines(info).length;
  const gseBefore = await gseCalls(info);
  const auth = JSON.stringify(info.credentials.caller);
  const startedAtMs = Date.now();
  const started = performance.now();
  const answers = await Promise.all(
    Array.from({ length: REQUESTS }, async (_, i) => {
      const res = await request(`${info.gatewayUrl}/api/v2/cluster/list_agent_state`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-bkapi-authorization": auth, ...(noCache ? { "cache-control": "no-cache" } : {}) },
        body: JSON.stringify({ agent_id_list: ids.slice(i * MAX_AGENTS_PER_REQUEST, (i + 1) * MAX_AGENTS_PER_REQUEST) }),
      });
      const body = (await res.body.json()) as { result: boolean; data: unknown[] | null; message?: string };
      if (res.statusCode !== 200 || !body.result || !body.data) throw new Error(`gateway answered ${res.statusCode}: ${body.message ?? ""}`);
      return body.data.length;
    }),
  );
  const answeredAt = performance.now();
  const ms = answeredAt - started;
  const gse = (await gseCalls(info)) - gseBefore;
  // The log line is written just before the answer; give the pipe a moment.
  let lookups = lookupLines(info).slice(logged);
  for (let i = 0; i < 50 && lookups.length < REQUESTS; i++) {
    await sleep(20);
    lookups = lookupLines(info).slice(logged);
  }
  return { ms, startedAtMs, answeredAt, gse, lookups, answered: answers.reduce((a, b) => a + b, 0) };
}

/** The same ids straight to the simulator: chunks of 1000, as many in flight as ours. */
async function direct(info: StackInfo, gse: GseClient, ids: readonly string[]): Promise<Round> {
  const gseBefore = await gseCalls(info);
  const limit = pLimit(DIRECT_CONCURRENCY);
  const startedAtMs = Date.now();
  const started = performance.now();
  const chunks = Array.from({ length: Math.ceil(ids.length / GSE_CHUNK) }, (_, i) => ids.slice(i * GSE_CHUNK, (i + 1) * GSE_CHUNK));
  const answers = await Promise.all(chunks.map((part) => limit(() => gse.call("list_agent_state", { agent_id_list: part }))));
  const answeredAt = performance.now();
  const ms = answeredAt - started;
  return { ms, startedAtMs, answeredAt, gse: (await gseCalls(info)) - gseBefore, lookups: [], answered: answers.reduce((a, b) => a + b.length, 0) };
}

function row(label: string, rounds: readonly Round[], baseline: number | undefined): string {
  const s = summarize(rounds.map((r) => r.ms));
  const last = rounds[rounds.length - 1];
  const sum = (pick: (l: Lookup) => number): number => (last?.lookups ?? []).reduce((a, l) => a + pick(l), 0);
  const has = (last?.lookups.length ?? 0) > 0;
  const dynamo = has ? `${sum((l) => l.dynamo_calls.batchGet)} / ${sum((l) => l.dynamo_calls.batchWrite)} / ${sum((l) => l.dynamo_calls.batchStatement)}` : "–";
  const served = has
    ? `${sum((l) => l.memo_hits)} / ${sum((l) => l.fleet ?? 0)} / ${sum((l) => l.fresh) - sum((l) => l.memo_hits) - sum((l) => l.fleet ?? 0)} / ${sum((l) => l.fetched)} (${sum((l) => l.cold_guessed)}) / ${sum((l) => l.queued)}`
    : "–";
  const fleetCalls = has ? `${sum((l) => l.fleet_calls?.get ?? 0)} + ${sum((l) => l.fleet_calls?.batchGet ?? 0)}` : "–";
  const slowest = (pick: (l: Lookup) => number): number => Math.max(...(last?.lookups ?? []).map(pick));
  const phases = has
    ? `${slowest((l) => l.read_ms)} / ${slowest((l) => l.fetch_ms)} / ${slowest((l) => l.queue_ms ?? 0)} / ${slowest((l) => l.duration_ms)}`
    : "–";
  const ratio = baseline === undefined ? "1.00" : (s.p50 / baseline).toFixed(2);
  return `| ${label} | ${rounds.length} | ${fmt(s.p50, 0)} | ${fmt(s.max, 0)} | ${ratio} | ${last?.gse ?? 0} | ${dynamo} | ${fleetCalls} | ${served} | ${phases} | ${last?.answered ?? 0} |`;
}

const drainRow = (label: string, d: Drain): string =>
  `| ${label} | ${d.messages} | ${fmt(d.ms, 0)} | ${d.calls} | ${d.written} / ${d.renewed} | ${d.writeUnits} | ${d.registered} |`;

/** What reading the ids costs DynamoDB Local by itself: the floor under any lookup that reads the table. */
async function tableReadAlone(info: StackInfo, ids: readonly string[]): Promise<Round> {
  const client = DynamoDBDocumentClient.from(new DynamoDBClient(localClientConfig(info.dynamodbEndpoint)));
  const store = new DynamoAgentStore({ client, tableName: info.tables.agents });
  const startedAtMs = Date.now();
  const started = performance.now();
  const found = await store.getMany(ids, newStoreCalls());
  const answeredAt = performance.now();
  client.destroy();
  return { ms: answeredAt - started, startedAtMs, answeredAt, gse: 0, lookups: [], answered: found.size };
}

interface Scenario {
  readonly rows: string[];
  readonly drains: string[];
  readonly verdict: string;
  readonly figures: ScenarioFigures;
}

interface ScenarioFigures {
  /** Medians of the rounds over the median of every direct round. */
  readonly cold_ratio: number;
  readonly warm_table_ratio: number;
  readonly warm_memo_ratio: number;
  /** Each cold round over the direct round right before it. */
  readonly cold_ratios: number[];
  /** The cold lookups' phases (ms), medians over the rounds of the slower request: what the lookup adds above GSE. */
  readonly cold_phases_ms: { read: number; fetch: number; send: number; total: number };
  /** Write units of the write-back after the first (cold) round and after the stale one. */
  readonly cold_write_units: number;
  readonly stale_write_units?: number;
}

const round2 = (x: number): number => Math.round(x * 100) / 100;

/** The median over rounds of a phase of each round's slower lookup. */
const phaseMedian = (rounds: readonly Round[], pick: (l: Lookup) => number): number => summarize(rounds.map((r) => Math.max(0, ...r.lookups.map(pick)))).p50;

async function scenario(info: StackInfo, gse: GseClient, label: string, sets: readonly number[], withStale: boolean): Promise<Scenario> {
  const [first, ...rest] = sets;
  if (first === undefined) throw new Error("a scenario needs its sets");
  const directIds = await idSet(info, first);
  const directRounds: Round[] = [];
  for (let i = 0; i < 3; i++) directRounds.push(await direct(info, gse, directIds));

  const cold: Round[] = [];
  const memo: Round[] = [];
  const memoDuring: Round[] = [];
  const table: Round[] = [];
  const alone: Round[] = [];
  const stale: Round[] = [];
  const drains: string[] = [];
  const coldDrains: Drain[] = [];
  const staleDrains: Drain[] = [];
  const pairedCold: number[] = [];
  for (const set of rest.length ? rest : [first]) {
    const ids = await idSet(info, set);
    // A direct round right before each cold one: the baseline spans the same stretch of the run (load drifts).
    const before = await direct(info, gse, directIds);
    directRounds.push(before);
    const c = await viaGateway(info, ids);
    cold.push(c);
    pairedCold.push(c.ms / before.ms);
    // Items and memo copies are as old as their chunk's GSE answer, all in before this.
    const filled = c.answeredAt;
    // A client repeating itself at once: this instance's memo answers, before the write-back has landed.
    for (let i = 0; i < 2; i++) memoDuring.push(await viaGateway(info, ids));
    const coldDrain = await drained(info, c);
    coldDrains.push(coldDrain);
    drains.push(drainRow(`${label}: after cold, set ${set}`, coldDrain));
    // And once the write-back is done: locally the automation function shares the runtime's one
    // thread with the API (in Lambda it has instances of its own), so the rounds above wait for it too.
    for (let i = 0; i < 2; i++) memo.push(await viaGateway(info, ids));
    alone.push(await tableReadAlone(info, ids));
    // Past the memo's age, still inside the cache TTL: answered from the table.
    await sleep(Math.max(0, filled + MEMO_SECONDS * 1000 + 500 - performance.now()));
    table.push(await viaGateway(info, ids));
    if (withStale && stale.length === 0) {
      await sleep(Math.max(0, filled + TTL_SECONDS * 1000 + 1000 - performance.now()));
      const st = await viaGateway(info, ids);
      stale.push(st);
      const staleDrain = await drained(info, st);
      staleDrains.push(staleDrain);
      drains.push(drainRow(`${label}: after stale, set ${set}`, staleDrain));
    }
  }
  const baseline = summarize(directRounds.map((r) => r.ms)).p50;
  const ratio = (rounds: readonly Round[]): number => summarize(rounds.map((r) => r.ms)).p50 / baseline;
  const verdict = (what: string, value: number, target: number, strict: boolean): string =>
    `${what} — ${(strict ? value < target : value <= target) ? "met" : "missed"} (${value.toFixed(2)}×)`;
  return {
    rows: [
      row(`${label}: direct to GSE`, directRounds, undefined),
      row(`${label}: ours, cold (ids not in the table)`, cold, baseline),
      row(`${label}: ours, warm, this instance's memo, while the write-back runs in the same process`, memoDuring, baseline),
      row(`${label}: ours, warm, this instance's memo, after the write-back`, memo, baseline),
      row(`${label}: ours, warm, from the table (memo aged out)`, table, baseline),
      row(`${label}: DynamoDB Local alone, BatchGetItem of the same ids (no HTTP, no GSE)`, alone, baseline),
      ...(stale.length ? [row(`${label}: ours, stale (TTL passed)`, stale, baseline)] : []),
    ],
    drains,
    verdict:
      `${label}: ${verdict("warm (memo, after the write-back) faster than direct", ratio(memo), 1, true)}; ${verdict("warm (table) faster than direct", ratio(table), 1, true)}; ` +
      `${verdict("cold within 1.3× of direct", ratio(cold), 1.3, false)} (each cold round over the direct round before it: ${pairedCold.map((r) => `${r.toFixed(2)}×`).join(", ")}).`,
    figures: {
      cold_ratio: round2(ratio(cold)),
      warm_table_ratio: round2(ratio(table)),
      warm_memo_ratio: round2(ratio(memo)),
      cold_ratios: pairedCold.map(round2),
      cold_phases_ms: {
        read: phaseMedian(cold, (l) => l.read_ms),
        fetch: phaseMedian(cold, (l) => l.fetch_ms),
        send: phaseMedian(cold, (l) => l.queue_ms ?? 0),
        total: phaseMedian(cold, (l) => l.duration_ms),
      },
      cold_write_units: summarize(coldDrains.map((d) => d.writeUnits)).p50,
      ...(staleDrains[0] ? { stale_write_units: staleDrains[0].writeUnits } : {}),
    },
  };
}

/** The heartbeat's settings for the bench's polls: one invocation polls the whole fleet (no shard jobs). */
const POLL_SETTINGS: HeartbeatDeps["settings"] = { ...SETTINGS, chunkSize: GSE_CHUNK, concurrency: CONCURRENCY_PER_REQUEST };

interface FleetScenario {
  readonly rows: string[];
  readonly drains: string[];
  readonly notes: string[];
  readonly warmFleetRatio: number;
  readonly writeUnitsAfter: number;
}

/**
 * A watched fleet: the warm-up's ids, registered with the fleet by its write-back, polled by the
 * heartbeat (startPoll over the stack's fleet table, at real time, as the schedule would), then
 * asked through our gateway. Each round waits for this instance's memo copies to age out and
 * follows a fresh poll, so it reads the fleet; a no-cache round shows what the write-back writes
 * for a watched agent asked of GSE.
 */
async function fleetScenario(info: StackInfo, gse: GseClient, label: string, ids: readonly string[], lastAskedAt: number): Promise<FleetScenario> {
  const client = DynamoDBDocumentClient.from(new DynamoDBClient(localClientConfig(info.dynamodbEndpoint)));
  const sns = new SNSClient(localClientConfig(info.sqsEndpoint));
  const queued: HeartbeatShardJob[] = [];
  const deps: HeartbeatDeps = {
    store: new FleetStore({ client, tableName: info.tables.fleet }),
    gse,
    sns,
    topicArn: info.alertsTopicArn,
    enqueue: async (job) => void queued.push(job),
    now: Date.now,
    settings: POLL_SETTINGS,
  };
  const pollMs: number[] = [];
  const poll = async (): Promise<void> => {
    const started = performance.now();
    await startPoll(deps, Date.now());
    for (const job of queued.splice(0)) await runShard(deps, job);
    pollMs.push(performance.now() - started);
  };
  try {
    const directRounds: Round[] = [];
    const fleet: Round[] = [];
    const drains: string[] = [];
    let writeUnitsAfter = 0;
    let last = lastAskedAt;
    // The first poll sees every agent for the first time (a write and a history item each): it can
    // take longer than the TTL here, so the rounds follow the quick polls after it.
    await poll();
    for (let i = 0; i < 3; i++) {
      await sleep(Math.max(0, last + MEMO_SECONDS * 1000 + 500 - performance.now()));
      await poll();
      directRounds.push(await direct(info, gse, ids));
      const r = await viaGateway(info, ids);
      fleet.push(r);
      last = r.answeredAt;
      const d = await drained(info, r);
      writeUnitsAfter += d.writeUnits;
    }
    const alone: Round[] = [];
    const reader = new DynamoFleetState({ client, tableName: info.tables.fleet, polledMaxAgeMs: 0, now: Date.now });
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      const found = await reader.agents(ids, newFleetStateCalls());
      const answeredAt = performance.now();
      alone.push({ ms: answeredAt - started, startedAtMs: Date.now(), answeredAt, gse: 0, lookups: [], answered: found.size });
    }
    const noCache = await viaGateway(info, ids, true);
    const noCacheDrain = await drained(info, noCache);
    writeUnitsAfter += noCacheDrain.writeUnits;
    drains.push(drainRow(`${label}: after the no-cache round on the watched ids`, noCacheDrain));
    const baseline = summarize(directRounds.map((r) => r.ms)).p50;
    return {
      rows: [
        row(`${label}: direct to GSE`, directRounds, undefined),
        row(`${label}: ours, warm, from the fleet (watched, polled within the TTL; memo aged out)`, fleet, baseline),
        row(`${label}: DynamoDB Local alone, the fleet read of the same ids (lib/agent-state/fleet-state.ts; no HTTP, no GSE)`, alone, baseline),
        row(`${label}: ours, no-cache on the watched ids (GSE; nothing written back)`, [noCache], baseline),
      ],
      drains,
      notes: [
        `heartbeat polls (startPoll, ${ids.length.toLocaleString("en")} watched agents; the first sees every one for the first time, one write and one history item each): ${pollMs.map((ms) => fmt(ms, 0)).join(" / ")} ms`,
      ],
      warmFleetRatio: summarize(fleet.map((r) => r.ms)).p50 / baseline,
      writeUnitsAfter,
    };
  } finally {
    client.destroy();
    sns.destroy();
  }
}

export const agentStateBenchmark: Benchmark = {
  name: "agent-state",
  async run() {
    const stack = await startStack();
    try {
      const { info } = stack;
      const gse = new GseClient({
        gse: {
          baseUrl: info.gseUrl,
          flavour: "v2",
          appCode: info.credentials.gse.appCode,
          appSecret: info.credentials.gse.appSecret,
          username: "admin",
          timeoutMs: 60_000,
          maxAttempts: 1,
        },
      });
      // Warm-up on a set of its own: the function's cold start, the JIT of DynamoDB Local and Node.
      // Its write-back registers the set with the fleet: the watched fleet of the fleet scenario.
      const warmup = await idSet(info, 0);
      await direct(info, gse, warmup);
      const first = await viaGateway(info, warmup);
      const firstDrain = await drained(info, first);
      const again = await viaGateway(info, warmup);

      const slowFault = { faults: [{ kind: "latency", operation: "list_agent_state", latencyMs: MODELED_GSE_LATENCY_MS }] };
      const slowLabel = `GSE +${MODELED_GSE_LATENCY_MS} ms/call`;
      await sim(info, "POST", "faults", slowFault);
      const watched = await fleetScenario(info, gse, `${slowLabel}, watched`, warmup, again.answeredAt);
      await sim(info, "DELETE", "faults");

      const coldSets = (k: number): number[] => Array.from({ length: COLD_SETS }, (_, i) => 1 + k * COLD_SETS + i);
      const asIs = await scenario(info, gse, "simulator as is", [0, ...coldSets(0)], true);
      await sim(info, "POST", "faults", slowFault);
      const slow = await scenario(info, gse, slowLabel, [0, ...coldSets(1)], false);
      await sim(info, "DELETE", "faults");

      const writeUnitsBefore = firstDrain.writeUnits;
      const json = {
        ids: IDS,
        gse_latency_ms: MODELED_GSE_LATENCY_MS,
        cold_ratio: slow.figures.cold_ratio,
        warm_table_ratio: slow.figures.warm_table_ratio,
        warm_memo_ratio: slow.figures.warm_memo_ratio,
        warm_fleet_ratio: round2(watched.warmFleetRatio),
        cold_ratios: slow.figures.cold_ratios,
        cold_phases_ms: slow.figures.cold_phases_ms,
        watched_write_units_before: writeUnitsBefore,
        watched_write_units_renewal_per_ttl_before: asIs.figures.stale_write_units ?? null,
        watched_write_units_after: watched.writeUnitsAfter,
        simulator_as_is: asIs.figures,
      };

      const report = [
        `list_agent_state for ${IDS.toLocaleString("en")} ids (legacy \`cloud:ip\`): through our gateway as ${REQUESTS} concurrent requests of`,
        `${MAX_AGENTS_PER_REQUEST} (our per-request cap), each chunked by ${GSE_CHUNK} with ${CONCURRENCY_PER_REQUEST} GSE calls in flight; direct = the same`,
        `ids straight to the simulator with the same GseClient, chunks of ${GSE_CHUNK}, ${DIRECT_CONCURRENCY} in flight (as many as our two requests);`,
        '3 direct rounds first, then one right before each cold round; "× direct" divides by the median of them all.',
        `Local stack of its own (\`--agents ${IDS * SETS}\`, DynamoDB Local in memory).`,
        `Second scenario: every simulator list_agent_state call delayed ${MODELED_GSE_LATENCY_MS} ms, bk-nodeman's measured GSE latency per 1000 hosts.`,
        `Memo age ${MEMO_SECONDS} s (the default) and cache TTL ${TTL_SECONDS} s for the run (default 300 s), so that the "from the table" and "stale" rounds need only a wait;`,
        "the heartbeat schedule is held off (it would poll every agent the run registers, on the same two cores).",
        `Watched rows: the warm-up's ${IDS.toLocaleString("en")} ids, which its write-back registered with the fleet, polled by the heartbeat (startPoll over`,
        `the stack's fleet table, at real time) right before each round, with GSE +${MODELED_GSE_LATENCY_MS} ms; each round waits out the memo, so it reads the fleet.`,
        ...watched.notes.map((n) => `${n[0]?.toUpperCase() ?? ""}${n.slice(1)}.`),
        "Cold rows use ids never asked before (table empty for them). DynamoDB calls, writes and phases are of the last round,",
        'from the handler\'s "agent state lookup" log lines: calls and writes summed over both requests, phases of the slower one',
        "(read = table read, fetch = first GSE call until the last chunk is merged, the two overlap; send = the write-behind message, after the last",
        "chunk; total = the whole lookup).",
        "",
        "| round | n | median ms | max ms | × direct | GSE calls | agents table calls in the request (BatchGet / BatchWrite / PartiQL batch) | fleet table reads (GetItem of the poll times + BatchGet) | ids from memo / fleet / agents table / GSE (of them unread, after a cold sample) / queued for write-back | read / fetch / send / total ms | items answered |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
        ...asIs.rows,
        ...slow.rows,
        ...watched.rows,
        "",
        "The write-back after the answer, by the automation function from the queue (drain = from the answer until the last queued agent was written;",
        "it includes registering agents seen for the first time with the fleet, one conditional put each):",
        "",
        "| after | messages | drain ms | DynamoDB calls of the agents table (BatchGet / BatchWrite / PartiQL batch) | items put / renewed | write units | agents registered with the fleet |",
        "|---|---|---|---|---|---|---|",
        `| warm-up: after cold, set 0 (the ids watched below, through the agents cache as before) | ${firstDrain.messages} | ${fmt(firstDrain.ms, 0)} | ${firstDrain.calls} | ${firstDrain.written} / ${firstDrain.renewed} | ${firstDrain.writeUnits} | ${firstDrain.registered} |`,
        ...asIs.drains,
        ...slow.drains,
        ...watched.drains,
        "",
        `Write-back write units for ${IDS.toLocaleString("en")} watched agents: ${writeUnitsBefore} when the agents cache held them (their first lookup; then`,
        `${asIs.figures.stale_write_units ?? "–"} per TTL, the stale row), ${watched.writeUnitsAfter} once the fleet answers for them (the fleet rounds and the no-cache round together).`,
        "",
        `Targets: ${asIs.verdict} ${slow.verdict} Watched, from the fleet: ${watched.warmFleetRatio.toFixed(2)}× direct.`,
      ].join("\n");
      return { report, json } satisfies BenchmarkResult;
    } finally {
      await stopStack(stack);
    }
  },
};
