/**
 * One heartbeat poll over 10,000 and 100,000 simulated agents with 1 % of them changing, against
 * the naive poll (read the fleet, ask GSE one chunk after another, write every agent back), in
 * the same run on the same parts: DynamoDB Local (in memory), the GSE simulator, the SNS/SQS
 * emulator. Each round starts from a fleet table in steady state (every agent stored as the
 * simulator says it is, as after a previous poll); then 1 % of the agents flip (running ↔ lossy).
 */
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { CreateTopicCommand, SNSClient } from "@aws-sdk/client-sns";
import { BatchWriteCommand, DynamoDBDocumentClient, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { startFauxqs } from "fauxqs";
import getPort from "get-port";
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import pLimit from "p-limit";
import { GseClient } from "../lib/gse/client.ts";
import { observeChunk } from "../lib/heartbeat/observe.ts";
import { startPoll, type HeartbeatSettings } from "../lib/heartbeat/poll.ts";
import { TABLES } from "../lib/resources.ts";
import { FUNCTIONS } from "../lib/wiring.ts";
import { agentKey, FLEET_PARTITIONS, FleetStore, type FleetAgent } from "../lib/fleet/store.ts";
import { chunk } from "../lib/dynamo/batch.ts";
import { localClientConfig } from "../local/aws.ts";
import { startDynamoDbLocal, tableSpec } from "../local/dynamodb.ts";
import { startGseSimulator, type GseSimulator } from "../local/gse-simulator/index.ts";
import { createLogSink } from "../local/process.ts";
import { fmt } from "./stats.ts";
import { statusClassOf } from "../lib/gse/status-class.ts";
import type { Benchmark } from "./stats.ts";

const FLEETS = [10_000, 100_000] as const;
const CHANGING = 0.01;
const SEED_CONCURRENCY = 8;
const REPEATS = (fleet: number): number => (fleet <= 10_000 ? 3 : 1);

const SETTINGS: HeartbeatSettings = {
  chunkSize: 1000,
  concurrency: 5,
  useNewAgentStatusApi: true,
  lostAfterPolls: 3,
  transitionalGraceMs: 15 * 60_000,
  // One invocation does the whole poll here, so the round measures the poll and not the fan-out.
  budgetMs: 600_000,
  evictAfterSeconds: 30 * 86_400,
  alertSample: 20,
  alertDedupMs: 3_600_000,
  writeConcurrency: 16,
};

interface Round {
  readonly variant: string;
  readonly fleet: number;
  readonly changed: number;
  readonly wallMs: number;
  readonly gseCalls: number;
  readonly writes: number;
  readonly writeUnits: number;
  readonly readCalls: number;
  /** Read units DynamoDB Local reports for the heartbeat poll's reads (not measured for the naive one). */
  readonly readUnits?: number;
  readonly runs?: number;
  /** The heartbeat poll's phases (ms): reading the fleet, then the chunks (GSE + writes). */
  readonly phases?: string;
}

/** The stored state after a previous poll: what the simulator says now, rev 1, alive ones seen at `at`. */
/**
 * An agent as the rules leave it after many polls in its state: alive, transitional for a while
 * (not yet past the grace: still alive, its last_seen fixed when it stopped running), lost after
 * K misses, or unknown. So the measured poll writes only what the 1 % flips change.
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
    ...(transitional ? { transitional_since: at - 600_000 } : {}),
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
 * The naive poll: read every partition, ask GSE one chunk at a time, and put every agent back
 * with its new state and last_seen (no comparison, no condition), 25 items a call, in order.
 */
async function naivePoll(doc: DynamoDBDocumentClient, table: string, gse: GseClient, at: number): Promise<Omit<Round, "variant" | "fleet" | "changed">> {
  const started = performance.now();
  let readCalls = 0;
  const agents: FleetAgent[] = [];
  for (let p = 0; p < FLEET_PARTITIONS; p++) {
    let start: Record<string, unknown> | undefined;
    do {
      readCalls++;
      const out = await doc.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: "pk = :pk",
          ExpressionAttributeValues: { ":pk": `fleet#${String(p).padStart(2, "0")}` },
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      agents.push(...((out.Items ?? []) as FleetAgent[]));
      start = out.LastEvaluatedKey;
    } while (start !== undefined);
  }
  let gseCalls = 0;
  let writes = 0;
  let writeUnits = 0;
  for (const part of chunk(agents, SETTINGS.chunkSize)) {
    gseCalls++;
    const observed = await observeChunk(
      gse,
      true,
      part.map((a) => a.agent_id),
    );
    for (const batch of chunk(part, 25)) {
      const items = batch.map((agent) => {
        const o = observed.get(agent.agent_id);
        const alive = o?.facts.alive ?? false;
        return {
          PutRequest: {
            Item: {
              ...agentKey(agent.agent_id),
              ...agent,
              status: alive ? "alive" : "lost",
              status_code: o?.facts.status_code ?? -1,
              seen_at: alive ? at : agent.seen_at,
              changed_at: at,
              rev: agent.rev + 1,
            },
          },
        };
      });
      let pending = items;
      while (pending.length > 0) {
        writes++;
        const out = await doc.send(new BatchWriteCommand({ RequestItems: { [table]: pending }, ReturnConsumedCapacity: "TOTAL" }));
        writeUnits += out.ConsumedCapacity?.[0]?.CapacityUnits ?? pending.length;
        pending = (out.UnprocessedItems?.[table] ?? []) as typeof pending;
      }
    }
  }
  return { wallMs: performance.now() - started, gseCalls, writes, writeUnits, readCalls };
}

async function round(
  variant: "ours" | "naive",
  fleet: number,
  parts: { dynamo: DynamoDBClient; doc: DynamoDBDocumentClient; sim: GseSimulator; gse: GseClient; sns: SNSClient; topicArn: string },
): Promise<Round> {
  const table = `bench-${variant}-${fleet}-${Date.now()}`;
  await parts.dynamo.send(new CreateTableCommand(tableSpec(TABLES.fleet, table)));
  try {
    parts.sim.reset();
    const views = parts.sim.listAgents({ offset: 0, limit: fleet });
    const at = Date.UTC(2026, 10, 25, 12, 0, 0);
    await seed(
      parts.doc,
      table,
      views.map((v) => steadyItem(v, at)),
    );
    // 1 %: every hundredth agent flips, running ↔ lossy.
    const flips = views.filter((_, i) => i % Math.round(1 / CHANGING) === 0);
    for (const status of [2, 3]) {
      const ids = flips.filter((v) => (v.status_code === 2) === (status === 3)).map((v) => v.legacy_id);
      if (ids.length) parts.sim.setAgentStatus(ids, status);
    }
    const pollAt = at + 60_000;
    if (variant === "naive") return { variant, fleet, changed: flips.length, ...(await naivePoll(parts.doc, table, parts.gse, pollAt)) };
    const store = new FleetStore({ client: parts.doc, tableName: table });
    const started = performance.now();
    // Real time from the poll's own time on, so the shard's phase timings are real.
    const now = (): number => pollAt + Math.round(performance.now() - started);
    const outcome = await startPoll(
      { store, gse: parts.gse, sns: parts.sns, topicArn: parts.topicArn, enqueue: async () => undefined, now, settings: SETTINGS },
      pollAt,
    );
    const wallMs = performance.now() - started;
    const first = outcome.first;
    if (!first || outcome.shards !== 1) throw new Error(`expected the poll to run in one shard, got ${outcome.shards}`);
    return {
      variant,
      fleet,
      changed: flips.length,
      wallMs,
      gseCalls: first.result.gse_calls,
      writes: first.calls.writes,
      writeUnits: first.calls.writeUnits,
      readCalls: first.calls.reads,
      readUnits: first.calls.readUnits,
      phases: `${fmt(first.result.read_ms, 0)} / ${fmt(first.result.chunks_ms, 0)}`,
    };
  } finally {
    await parts.dynamo.send(new DeleteTableCommand({ TableName: table }));
  }
}

/**
 * AWS list prices, us-east-1, as this project knows them (no internet here to re-check; verify
 * before quoting): Lambda arm64, DynamoDB on-demand after its 2024-11-01 reduction, SNS and SQS
 * standard, EventBridge scheduled rules. Free tiers left out.
 */
export const PRICES = {
  asOf: "2025 list prices (AWS pricing pages; DynamoDB on-demand as reduced on 2024-11-01), not re-checked since",
  lambdaGbSecond: 0.0000133334,
  lambdaRequest: 0.2 / 1e6,
  dynamoWriteUnit: 0.625 / 1e6,
  dynamoReadUnit: 0.125 / 1e6,
  dynamoGbMonth: 0.25,
  snsPublish: 0.5 / 1e6,
  sqsRequest: 0.4 / 1e6,
} as const;

/** One poll a minute over a 30-day month. */
const POLLS_PER_MONTH = 30 * 24 * 60;
/** One alert per kind per poll at most: lost, recovered, version_changed, newly_seen, unknown, gse_unreachable. */
const ALERT_KINDS_PER_POLL = 6;
/** A stored agent item (registry and state with its last raw record): an estimate of its size. */
const ITEM_BYTES = 600;

function costModel(ours: readonly Round[]): string[] {
  const memoryGb = FUNCTIONS.heartbeat.memoryMb / 1024;
  const usd = (n: number): string => `$${n < 0.01 ? n.toFixed(4) : n.toFixed(2)}`;
  const rows = ours.map((r) => {
    const gbSeconds = (r.wallMs / 1000) * memoryGb * POLLS_PER_MONTH;
    const lambda = gbSeconds * PRICES.lambdaGbSecond + POLLS_PER_MONTH * PRICES.lambdaRequest;
    const readUnits = (r.readUnits ?? 0) * POLLS_PER_MONTH;
    const writeUnits = r.writeUnits * POLLS_PER_MONTH;
    const dynamo = readUnits * PRICES.dynamoReadUnit + writeUnits * PRICES.dynamoWriteUnit + ((r.fleet * ITEM_BYTES) / 1e9) * PRICES.dynamoGbMonth;
    const sns = ALERT_KINDS_PER_POLL * POLLS_PER_MONTH * PRICES.snsPublish;
    // One shard here: no shard jobs. A sharded poll adds a send, a receive and a delete per extra shard.
    const sqs = 0;
    return (
      `| ${r.fleet.toLocaleString("en")} | ${fmt(gbSeconds, 0)} GB-s, ${POLLS_PER_MONTH.toLocaleString("en")} invocations: ${usd(lambda)} | ` +
      `${fmt(readUnits / 1e6, 1)} M RRU, ${fmt(writeUnits / 1e6, 1)} M WRU: ${usd(dynamo)} | ≤ ${fmt((ALERT_KINDS_PER_POLL * POLLS_PER_MONTH) / 1e3, 0)} k publishes: ${usd(sns)} | ${usd(sqs)} | **${usd(lambda + dynamo + sns + sqs)}** |`
    );
  });
  return [
    `Cost per month of the heartbeat alone, every minute (${POLLS_PER_MONTH.toLocaleString("en")} polls in 30 days), from the heartbeat rows above:`,
    `Lambda GB-s = measured wall time × ${FUNCTIONS.heartbeat.memoryMb} MB (the function's memory) — an upper bound, since DynamoDB Local is far slower`,
    "than DynamoDB; read and write units as DynamoDB Local reported them for one poll with 1 % of the fleet changing (a",
    "steady fleet writes less); SNS at most one alert per kind per poll; SQS none while one invocation does the poll;",
    `storage ${ITEM_BYTES} bytes an agent. EventBridge scheduled rules and CloudWatch Logs are left out. Prices: ${PRICES.asOf} —`,
    `Lambda arm64 $${PRICES.lambdaGbSecond}/GB-s and $0.20 per million requests; DynamoDB on-demand $0.625 per million WRU, $0.125 per`,
    "million RRU, $0.25/GB-month; SNS $0.50 per million publishes; SQS $0.40 per million requests.",
    "",
    "| agents | Lambda | DynamoDB | SNS | SQS | total per month |",
    "|---|---|---|---|---|---|",
    ...rows,
  ];
}

export const heartbeatBenchmark: Benchmark = {
  name: "heartbeat",
  async run() {
    const dir = mkdtempSync(join(tmpdir(), "gse-bench-heartbeat-"));
    const log = createLogSink(join(dir, "dynamodb.log"));
    const [dynamodb, fauxqs, sim] = await Promise.all([
      getPort().then((port) => startDynamoDbLocal({ port, log })),
      startFauxqs({ port: 0, logger: false }),
      startGseSimulator({ agents: Math.max(...FLEETS), tickMs: 0, credentials: [{ bk_app_code: "bench", bk_app_secret: "bench-secret-value" }] }),
    ]);
    const dynamo = new DynamoDBClient(localClientConfig(dynamodb.endpoint));
    const sns = new SNSClient(localClientConfig(`http://127.0.0.1:${fauxqs.port}`));
    try {
      const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: "bench-alerts" }));
      const gse = new GseClient({
        gse: { baseUrl: sim.url, flavour: "v2", appCode: "bench", appSecret: "bench-secret-value", username: "admin", timeoutMs: 30_000, maxAttempts: 2 },
      });
      const parts = { dynamo, doc: DynamoDBDocumentClient.from(dynamo), sim, gse, sns, topicArn: TopicArn ?? "" };
      const rounds: Round[] = [];
      const loadBefore = loadavg()[0] ?? 0;
      for (const fleet of FLEETS) {
        for (const variant of ["ours", "naive"] as const) {
          // Wall time on a shared 2-core machine is noisy: the median of a few rounds where they are cheap.
          const runs: Round[] = [];
          for (let i = 0; i < REPEATS(fleet); i++) {
            const r = await round(variant, fleet, parts);
            process.stdout.write(`${variant} ${fleet}: ${Math.round(r.wallMs)} ms, ${r.gseCalls} GSE calls, ${r.writes} write calls, ${r.writeUnits} WCU\n`);
            runs.push(r);
          }
          const sorted = [...runs].sort((a, b) => a.wallMs - b.wallMs);
          rounds.push({ ...(sorted[Math.floor(sorted.length / 2)] as Round), runs: runs.length });
        }
      }
      const rows = rounds.map((r) => {
        const naive = rounds.find((n) => n.variant === "naive" && n.fleet === r.fleet) as Round;
        return `| ${r.fleet.toLocaleString("en")} | ${r.changed.toLocaleString("en")} | ${r.variant === "ours" ? "heartbeat poll" : "naive poll"} | ${r.runs ?? 1} | ${fmt(r.wallMs, 0)} | ${r.phases ?? "–"} | ${r.gseCalls} | ${r.readCalls} | ${r.writes} | ${fmt(r.writeUnits, 0)} | ${r.variant === "ours" ? `${fmt(naive.wallMs / r.wallMs, 1)}× / ${fmt(naive.writeUnits / Math.max(r.writeUnits, 1), 0)}×` : "1 / 1"} |`;
      });
      return [
        "One poll with 1 % of the fleet changed since the last one (every hundredth agent flips running ↔ lossy), from a fleet table",
        "in steady state; DynamoDB Local in memory, the GSE simulator and the SNS/SQS emulator in this process's machine.",
        "Heartbeat poll = `startPoll` (lib/heartbeat/poll.ts): partitions read 16 at a time, chunks of 1000 ids, 5 GSE calls in flight,",
        "conditional writes of changed agents only, their transitions, the poll's bookkeeping, summary and alerts (one shard: the budget is",
        "raised so the whole poll is one invocation). Naive poll = read the fleet, ask GSE one chunk after another, put every agent back.",
        "Write units are what DynamoDB Local reports (ReturnConsumedCapacity), 1 per item where it reports none.",
        `Machine load (1-minute load average) at the start and end of the run: ${fmt(loadBefore, 1)} and ${fmt(loadavg()[0] ?? 0, 1)}`,
        "on 2 cores; wall times move with it, GSE calls and writes do not.",
        "",
        "| agents | changed | poll | runs | wall ms (median) | read fleet / chunks ms | GSE calls | DynamoDB reads | DynamoDB write calls | write units | naive ÷ ours (time / write units) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
        ...rows,
        "",
        ...costModel(rounds.filter((r) => r.variant === "ours")),
      ].join("\n");
    } finally {
      dynamo.destroy();
      sns.destroy();
      await Promise.all([dynamodb.stop(), fauxqs.stop(), sim.stop()]);
      await log.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
