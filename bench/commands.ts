/**
 * Tracked commands: dispatch_message to 10,000 and 100,000 agents, driven in-process
 * through the same lib code the dispatch route runs (`dispatchCommand`, lib/commands/api.ts) and
 * the queue's tick job (`tickJobHandler`, lib/commands/retry.ts), against DynamoDB Local (in
 * memory) and the GSE simulator. Every DynamoDB request is counted by wrapping the document
 * client's `send`; GSE calls come from the simulator's counters. Plugin replies reach an
 * in-process callback handler (`receiveCallback`, lib/commands/reply.ts) on a client of its own,
 * so reply writes are counted apart from the dispatch's.
 */
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  BatchExecuteStatementCommand,
  BatchGetCommand,
  BatchWriteCommand,
  DynamoDBDocumentClient,
  ExecuteStatementCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import type { QueueRecord } from "../lib/core/records.ts";
import getPort from "get-port";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { dispatchCommand } from "../lib/commands/api.ts";
import { COMMAND_TICK_JOB, commandSettings, type CommandDeps, type JobQueue } from "../lib/commands/settings.ts";
import { receiveCallback, type ReplyOutcome } from "../lib/commands/reply.ts";
import { tickJobHandler } from "../lib/commands/retry.ts";
import type { DispatchCommandRequest, RolloutLimit } from "../lib/commands/schemas.ts";
import { loadConfig } from "../lib/core/config.ts";
import { GseClient } from "../lib/gse/client.ts";
import type { SlotCallback } from "../lib/gse/schemas.ts";
import { TABLES } from "../lib/resources.ts";
import { CommandStore } from "../lib/commands/store.ts";
import { FUNCTIONS } from "../lib/wiring.ts";
import { localClientConfig } from "../local/aws.ts";
import { startDynamoDbLocal, tableSpec } from "../local/dynamodb.ts";
import { RUNNING_STATUS, startGseSimulator, type GseSimulator } from "../local/gse-simulator/index.ts";
import { createLogSink } from "../local/process.ts";
import { fmt } from "./stats.ts";
import type { Benchmark } from "./stats.ts";

export const CREDENTIAL = { bk_app_code: "bench", bk_app_secret: "bench-secret-value" } as const;
/** bk-nodeman's measured GSE latency for 1000 hosts (0.5–0.6 s; bench/agent-state.ts models the same): used only in a model line. */
const MODELED_GSE_MS = 500;
/** What DynamoDB writes to one partition key at most, a second (its documented per-partition limit). */
const PER_KEY_WCU = 1_000;
/** The automation function's tick budget, as functions/automation.ts computes it. */
const TICK_BUDGET_MS = (FUNCTIONS.automation.timeoutSeconds - 30) * 1000;

interface Scenario {
  readonly targets: number;
  readonly maxConcurrency?: RolloutLimit;
  /**
   * Whether the simulator's plugin replies reach the callback while the command is sent. On in the
   * runs that measure replies only: recording 9,000 replies takes DynamoDB Local longer than the dispatch itself.
   */
  readonly replies: boolean;
  /** The command awaits replies (reply_timeout_seconds): each reply creates its agent's item, and the tick counts them per batch onto the command. */
  readonly tracked?: boolean;
  /** Runs; the row reports the median (by all-sent time). */
  readonly repeats: number;
}
const WARM_UP_TARGETS = 2_000;
/** The reply timeout of the tracked runs: long enough that no agent times out while its reply is on its way. */
const TRACKED_REPLY_TIMEOUT_SECONDS = 600;
const DEFAULT_SCENARIOS: readonly Scenario[] = [
  { targets: 10_000, replies: false, repeats: 3 },
  { targets: 10_000, maxConcurrency: "10%", replies: false, repeats: 3 },
  { targets: 10_000, replies: true, repeats: 1 },
  { targets: 10_000, replies: true, tracked: true, repeats: 1 },
  { targets: 100_000, replies: false, repeats: 1 },
];
/** `--agents N`: the dispatch without reply tracking, and with it (replies on), once each at N agents. */
const scenariosFor = (agents: number): readonly Scenario[] => [
  { targets: agents, replies: false, repeats: 1 },
  { targets: agents, replies: true, tracked: true, repeats: 1 },
];

// --- counting DynamoDB ----------------------------------------------------------------------

/** What a document client sent: write items by the kind of item written, units as DynamoDB Local reports them and as DynamoDB bills them. */
export interface DynamoCounts {
  writeCalls: number;
  /** Items written (attempted): a BatchWrite or transaction counts each of its items. */
  writeItems: number;
  agentItems: number;
  batchItems: number;
  /** A batch's ids (written once) and a sparse command's members buckets. */
  idsItems: number;
  commandItems: number;
  /** Of writeItems, those inside TransactWriteItems (billed twice by DynamoDB). */
  transactItems: number;
  conditionFailures: number;
  writeUnits: number;
  /**
   * What DynamoDB would bill (billedWriteUnits): 1 WRU per KB of a put item (its size as DynamoDB
   * counts it), 1 for an update or delete of an item under 1 KB (every item updated here is), twice
   * inside a transaction; a refused write is billed too.
   */
  billedUnits: number;
  /** Of billedUnits, those of agent items. */
  agentUnits: number;
  readCalls: number;
  readUnits: number;
}

const zeroCounts = (): DynamoCounts => ({
  writeCalls: 0,
  writeItems: 0,
  agentItems: 0,
  batchItems: 0,
  idsItems: 0,
  commandItems: 0,
  transactItems: 0,
  conditionFailures: 0,
  writeUnits: 0,
  billedUnits: 0,
  agentUnits: 0,
  readCalls: 0,
  readUnits: 0,
});

/** An attribute value's size as DynamoDB counts it (docs: item sizes): strings and binaries by length, numbers by digits. */
function valueBytes(value: unknown): number {
  if (typeof value === "string") return Buffer.byteLength(value);
  if (typeof value === "number") return Math.ceil(String(value).replace(/[-.]/g, "").length / 2) + 1;
  if (typeof value === "boolean" || value === null || value === undefined) return 1;
  if (value instanceof Uint8Array) return value.byteLength;
  if (Array.isArray(value)) return 3 + value.reduce((sum: number, v) => sum + 1 + valueBytes(v), 0);
  if (typeof value === "object") return 3 + itemBytes(value as Record<string, unknown>);
  return 0;
}

const itemBytes = (item: Record<string, unknown>): number => Object.entries(item).reduce((sum, [k, v]) => sum + Buffer.byteLength(k) + valueBytes(v), 0);

/** WRU of one put: 1 per started KB. */
const putUnits = (item: unknown): number => Math.max(1, Math.ceil(itemBytes((item ?? {}) as Record<string, unknown>) / 1024));

type Sk = { pk?: unknown; sk?: unknown } | undefined;
type Send = (command: unknown, options?: unknown) => Promise<unknown>;

function capacityOf(out: unknown): number | undefined {
  const consumed = (out as { ConsumedCapacity?: { CapacityUnits?: number } | { CapacityUnits?: number }[] } | undefined)?.ConsumedCapacity;
  if (consumed === undefined) return undefined;
  const list = Array.isArray(consumed) ? consumed : [consumed];
  return list.reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0);
}

/** A document client whose `send` counts every request (and asks DynamoDB Local for consumed capacity). */
export function countingClient(base: DynamoDBClient): { doc: DynamoDBDocumentClient; counts: DynamoCounts; keyUnits: Map<string, number> } {
  const doc = DynamoDBDocumentClient.from(base);
  const counts = zeroCounts();
  // Billed write units by partition key: DynamoDB takes at most 1,000 WCU/s on one key.
  const keyUnits = new Map<string, number>();
  const original = doc.send.bind(doc) as Send;
  /** Counts an item written by its kind, with the units DynamoDB would bill for it. */
  const classify = (key: Sk, units = 0): void => {
    const sk = typeof key?.sk === "string" ? key.sk : "";
    counts.billedUnits += units;
    if (typeof key?.pk === "string") keyUnits.set(key.pk, (keyUnits.get(key.pk) ?? 0) + units);
    if (sk.startsWith("agent#")) counts.agentUnits += units;
    if (sk.startsWith("agent#")) counts.agentItems++;
    else if (sk.startsWith("batch#")) counts.batchItems++;
    else if (sk.startsWith("ids#") || sk.startsWith("members#")) counts.idsItems++;
    else counts.commandItems++;
  };
  const send: Send = async (command, options) => {
    let items = 0;
    let isWrite = true;
    if (command instanceof PutCommand) {
      classify(command.input.Item as Sk, putUnits(command.input.Item));
      items = 1;
    } else if (command instanceof UpdateCommand) {
      classify(command.input.Key as Sk, 1);
      items = 1;
    } else if (command instanceof BatchWriteCommand) {
      for (const requests of Object.values(command.input.RequestItems ?? {})) {
        for (const r of requests) classify((r.PutRequest?.Item ?? r.DeleteRequest?.Key) as Sk, r.PutRequest ? putUnits(r.PutRequest.Item) : 1);
        items += requests.length;
      }
    } else if (command instanceof TransactWriteCommand) {
      for (const t of command.input.TransactItems ?? [])
        classify((t.Put?.Item ?? t.Update?.Key ?? t.Delete?.Key ?? t.ConditionCheck?.Key) as Sk, 2 * (t.Put ? putUnits(t.Put.Item) : 1));
      items = command.input.TransactItems?.length ?? 0;
      counts.transactItems += items;
    } else if (command instanceof ExecuteStatementCommand || command instanceof BatchExecuteStatementCommand) {
      // PartiQL INSERTs of missing agent items (a takeover): one small item each.
      const statements = command instanceof BatchExecuteStatementCommand ? (command.input.Statements ?? []) : [command.input];
      for (const _ of statements) classify({ sk: "agent#" }, 1);
      items = statements.length;
    } else isWrite = false;
    const input = (command as { input?: Record<string, unknown> }).input;
    if (input && (isWrite || command instanceof GetCommand || command instanceof QueryCommand || command instanceof BatchGetCommand))
      input.ReturnConsumedCapacity ??= "TOTAL";
    if (isWrite) {
      counts.writeCalls++;
      counts.writeItems += items;
    } else counts.readCalls++;
    try {
      const out = await original(command, options);
      const units = capacityOf(out);
      if (isWrite) counts.writeUnits += units ?? items;
      else counts.readUnits += units ?? 0;
      return out;
    } catch (error) {
      if (error instanceof Error && /ConditionalCheckFailed|TransactionCanceled/.test(error.name)) counts.conditionFailures++;
      throw error;
    }
  };
  (doc as unknown as { send: Send }).send = send;
  return { doc, counts, keyUnits };
}

/** The command store, with when its sending started and ended (the first claim, the last batch completed, the finish). */
class TimedStore extends CommandStore {
  firstClaimAt: number | undefined;
  lastCompleteAt: number | undefined;
  finishedAt: number | undefined;
  /** Summed over batches (they overlap when several are in flight): agent prewrites, recording the outcome. */
  prewriteMs = 0;
  recordMs = 0;
  override async prewriteAgents(...args: Parameters<CommandStore["prewriteAgents"]>): ReturnType<CommandStore["prewriteAgents"]> {
    const t = performance.now();
    await super.prewriteAgents(...args);
    this.prewriteMs += performance.now() - t;
  }
  override async recordFailures(...args: Parameters<CommandStore["recordFailures"]>): ReturnType<CommandStore["recordFailures"]> {
    const t = performance.now();
    const recorded = await super.recordFailures(...args);
    this.recordMs += performance.now() - t;
    return recorded;
  }
  override async claimBatch(...args: Parameters<CommandStore["claimBatch"]>): ReturnType<CommandStore["claimBatch"]> {
    this.firstClaimAt ??= performance.now();
    return super.claimBatch(...args);
  }
  override async completeBatch(...args: Parameters<CommandStore["completeBatch"]>): ReturnType<CommandStore["completeBatch"]> {
    const t = performance.now();
    const done = await super.completeBatch(...args);
    this.lastCompleteAt = performance.now();
    this.recordMs += this.lastCompleteAt - t;
    return done;
  }
  override async finish(...args: Parameters<CommandStore["finish"]>): ReturnType<CommandStore["finish"]> {
    const won = await super.finish(...args);
    if (won) this.finishedAt = performance.now();
    return won;
  }
}

/** The automation queue, as a recorder: jobs are kept, the benchmark runs the immediate tick jobs itself. */
export function recordingQueue(): JobQueue & { jobs: { job: Record<string, unknown> & { type: string }; delaySeconds: number }[] } {
  const jobs: { job: Record<string, unknown> & { type: string }; delaySeconds: number }[] = [];
  return {
    jobs,
    async send(job, delaySeconds) {
      jobs.push({ job: { ...job }, delaySeconds });
    },
  };
}

// --- plugin replies -------------------------------------------------------------------------

interface ReplyServer {
  readonly url: string;
  readonly counts: DynamoCounts;
  readonly keyUnits: Map<string, number>;
  readonly outcomes: Record<ReplyOutcome, number>;
  lastAt: number | undefined;
  close(): Promise<void>;
}

/** GSE's slot callback, in-process: every reply goes through receiveCallback with its own counted client. */
async function startReplyServer(base: DynamoDBClient, tableName: () => string, retentionMs: number): Promise<ReplyServer> {
  const { doc, counts, keyUnits } = countingClient(base);
  const stores = new Map<string, CommandStore>();
  const storeOf = (name: string): CommandStore => {
    let store = stores.get(name);
    if (!store) {
      store = new CommandStore({ client: doc, tableName: name });
      stores.set(name, store);
    }
    return store;
  };
  const state: ReplyServer = {
    url: "",
    counts,
    keyUnits,
    outcomes: { replied: 0, duplicate: 0, upstream: 0 },
    lastAt: undefined,
    close: async () => undefined,
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const callback = JSON.parse(Buffer.concat(chunks).toString("utf8")) as SlotCallback;
      receiveCallback({ store: storeOf(tableName()), now: Date.now, retentionMs }, callback).then(
        (outcome) => {
          state.outcomes[outcome]++;
          state.lastAt = performance.now();
          res.writeHead(200, { "content-type": "application/json" }).end('{"result":true}');
        },
        (error: unknown) => res.writeHead(500).end(String(error)),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return Object.assign(state, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

// --- one run --------------------------------------------------------------------------------

interface Run {
  readonly scenario: Scenario;
  readonly batches: number;
  readonly batchSize: number;
  /** About the size of one full batch item (its agent ids), KB. */
  readonly batchItemKb: number;
  readonly parallel: number;
  readonly notConnected: number;
  /** Time the request's answer came back, and how many batches it had sent by then. */
  readonly answerMs: number;
  readonly sentInRequest: number;
  readonly ticks: number;
  readonly submitMs: number;
  readonly allSentMs: number;
  readonly finalMs: number | undefined;
  readonly status: string;
  readonly failed: number;
  readonly replyMs: number | undefined;
  readonly replies: Record<ReplyOutcome, number>;
  readonly gseCalls: number;
  /** Mean per batch: agent prewrites, the GSE call, recording failures and completing the batch. */
  readonly perBatch: { prewrite: number; gse: number; record: number };
  readonly dispatch: DynamoCounts;
  readonly reply: DynamoCounts;
  /** Partition keys the command's writes (dispatch and replies) went to, and the billed units of the busiest one. */
  readonly writeKeys: number;
  readonly hottestKeyUnits: number;
}

/**
 * The commands table as deployed, or without its stream. Nothing reads the stream here, and DynamoDB
 * Local (unlike DynamoDB) takes writes several times slower into a table that has one.
 */
export function commandsTable(name: string, stream: boolean): ReturnType<typeof tableSpec> {
  const spec = tableSpec(TABLES.commands, name);
  return stream ? spec : { ...spec, StreamSpecification: undefined };
}

interface Parts {
  readonly dynamo: DynamoDBClient;
  readonly sim: GseSimulator;
  readonly gse: GseClient;
  readonly replies: ReplyServer;
  readonly settings: CommandDeps["settings"];
  readonly slot: CommandDeps["slot"];
  table: string;
}

/** The command's write units by partition key, over the clients given (every key of a command holds its message id). */
function keyLoad(messageId: string, counted: readonly Map<string, number>[]): { writeKeys: number; hottestKeyUnits: number } {
  const byKey = new Map<string, number>();
  for (const units of counted) for (const [pk, u] of units) if (pk.includes(messageId)) byKey.set(pk, (byKey.get(pk) ?? 0) + u);
  return { writeKeys: byKey.size, hottestKeyUnits: Math.max(0, ...byKey.values()) };
}

const diff = (after: DynamoCounts, before: DynamoCounts): DynamoCounts =>
  Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - before[k as keyof DynamoCounts]])) as unknown as DynamoCounts;

async function runScenario(scenario: Scenario, targets: readonly string[], notConnected: number, parts: Parts): Promise<Run> {
  parts.table = `bench-commands-${scenario.targets}-${Date.now()}`;
  await parts.dynamo.send(new CreateTableCommand(commandsTable(parts.table, false)));
  try {
    const { doc, counts, keyUnits } = countingClient(parts.dynamo);
    const store = new TimedStore({ client: doc, tableName: parts.table });
    const queue = recordingQueue();
    // GSE time per call, summed (calls overlap when several batches are in flight).
    let gseMs = 0;
    const gse = Object.create(parts.gse) as GseClient;
    gse.call = (async (...args: Parameters<GseClient["call"]>) => {
      const t = performance.now();
      try {
        return await parts.gse.call(...args);
      } finally {
        gseMs += performance.now() - t;
      }
    }) as GseClient["call"];
    const deps: CommandDeps = { store, gse, slot: parts.slot, queue, settings: parts.settings, now: Date.now, random: Math.random };
    const request: DispatchCommandRequest = {
      message_id: `bench-${scenario.targets}-${scenario.maxConcurrency === undefined ? "all" : "pct"}-${scenario.tracked ? "tracked-" : ""}${Date.now()}`,
      agent_id_list: [...targets],
      content: JSON.stringify({ action: "start", probe: "bench", params: { interval: 60 } }),
      ...(scenario.maxConcurrency !== undefined ? { max_concurrency: scenario.maxConcurrency } : {}),
      ...(scenario.tracked ? { reply_timeout_seconds: TRACKED_REPLY_TIMEOUT_SECONDS } : {}),
    };
    const replyBefore = { ...parts.replies.counts };
    const outcomesBefore = { ...parts.replies.outcomes };
    parts.replies.lastAt = undefined;
    parts.sim.setCallbackUrl(scenario.replies ? parts.replies.url : null);
    const gseBefore = parts.sim.counters().calls.dispatch_message;

    const started = performance.now();
    const answer = await dispatchCommand(deps, request, "bench");
    const answerMs = performance.now() - started;
    // What the queue would do next: the immediate tick jobs the request (or a tick) handed over.
    const tick = tickJobHandler(deps, TICK_BUDGET_MS);
    let ticks = 0;
    for (let i = 0; i < queue.jobs.length; i++) {
      const { job, delaySeconds } = queue.jobs[i] as (typeof queue.jobs)[number];
      if (job.type !== COMMAND_TICK_JOB || delaySeconds > 0) continue;
      const command = await store.getCommand(request.message_id);
      if (command?.status !== "RUNNING") break;
      ticks++;
      await tick(job, { messageId: `bench-tick-${ticks}` } as QueueRecord);
    }
    const sent = await store.getCommand(request.message_id);
    if (!sent) throw new Error("the command vanished");
    if (sent.batches_done !== sent.batch_count) throw new Error(`only ${sent.batches_done} of ${sent.batch_count} batches sent`);
    const gseCalls = parts.sim.counters().calls.dispatch_message - gseBefore;

    await parts.sim.idle();
    // A command awaiting replies ends at the watchdog's look once they are in: that tick's writes are the dispatch's.
    if (scenario.tracked) await tick({ type: COMMAND_TICK_JOB, message_id: request.message_id }, { messageId: "bench-tick-final" } as QueueRecord);
    const dispatch = { ...counts };
    const command = (await store.getCommand(request.message_id)) ?? sent;
    const replies = Object.fromEntries(Object.entries(parts.replies.outcomes).map(([k, v]) => [k, v - outcomesBefore[k as ReplyOutcome]])) as Record<
      ReplyOutcome,
      number
    >;
    const run: Run = {
      scenario,
      batches: command.batch_count,
      batchSize: command.batch_size,
      batchItemKb: Buffer.byteLength(JSON.stringify(targets.slice(0, command.batch_size))) / 1024,
      parallel: command.parallel,
      notConnected,
      answerMs,
      sentInRequest: answer.command.batches.sent,
      ticks,
      submitMs: (store.firstClaimAt ?? started) - started,
      allSentMs: (store.lastCompleteAt ?? started) - started,
      finalMs: command.status === "RUNNING" || store.finishedAt === undefined ? undefined : store.finishedAt - started,
      status: command.status,
      failed: command.counts?.FAILED ?? command.errors,
      replyMs: parts.replies.lastAt === undefined ? undefined : parts.replies.lastAt - started,
      replies,
      gseCalls,
      perBatch: { prewrite: store.prewriteMs / command.batch_count, gse: gseMs / command.batch_count, record: store.recordMs / command.batch_count },
      dispatch,
      reply: diff(parts.replies.counts, replyBefore),
      ...keyLoad(request.message_id, [keyUnits, parts.replies.keyUnits]),
    };
    process.stdout.write(
      `${scenario.targets} ${scenario.maxConcurrency ?? "default"}: answer ${Math.round(answerMs)} ms (${run.sentInRequest}/${run.batches} sent), all sent ${Math.round(run.allSentMs)} ms, ` +
        `${run.status} ${run.finalMs === undefined ? "–" : Math.round(run.finalMs)} ms, ${gseCalls} GSE calls, ${dispatch.writeItems} write items, ${replies.replied} replies by ${Math.round(run.replyMs ?? 0)} ms\n`,
    );
    return run;
  } finally {
    await parts.dynamo.send(new DeleteTableCommand({ TableName: parts.table }));
  }
}

// --- report ---------------------------------------------------------------------------------

const n = (x: number): string => x.toLocaleString("en");
const ms = (x: number | undefined): string => (x === undefined ? "–" : n(Math.round(x)));
const per = (x: number, of: number, digits = 2): string => fmt(x / Math.max(1, of), digits);
const rollout = (s: Scenario): string =>
  `${s.maxConcurrency === undefined ? "default (all)" : `max_concurrency "${s.maxConcurrency}"`}${s.tracked ? ", replies awaited" : ""}${s.replies ? ", replies on" : ""}`;

/**
 * How fast DynamoDB Local takes agent items here and now: `prewriteAgents` (the dispatch's own write
 * path) for 2,000 agents into the commands table as deployed (with its stream) and into one without.
 */
async function calibrate(dynamo: DynamoDBClient): Promise<{ withStream: number; withoutStream: number }> {
  const doc = DynamoDBDocumentClient.from(dynamo);
  const ids = Array.from({ length: 2_000 }, (_, i) => `calibration-agent-${String(i).padStart(19, "0")}`);
  const rate = async (stream: boolean): Promise<number> => {
    const table = commandsTable(`bench-calibration-${stream ? "stream" : "plain"}-${Date.now()}`, stream);
    await dynamo.send(new CreateTableCommand(table));
    try {
      const started = performance.now();
      await new CommandStore({ client: doc, tableName: table.TableName }).prewriteAgents({
        command: { message_id: "calibration" },
        batch: 0,
        agentIds: ids,
        now: Date.now(),
        expiresAt: Math.floor(Date.now() / 1000) + 3600,
        firstSend: true,
      });
      return ids.length / ((performance.now() - started) / 1000);
    } finally {
      await dynamo.send(new DeleteTableCommand({ TableName: table.TableName }));
    }
  };
  return { withStream: await rate(true), withoutStream: await rate(false) };
}

/** What DynamoDB would bill for the dispatch's writes (countingClient's estimate, by item size). */
const billedUnits = (r: Run): number => r.dispatch.billedUnits;

/** One run's figures for `--json`: per agent, as DynamoDB would bill them (and as DynamoDB Local reported). */
function runFigures(r: Run): Record<string, unknown> {
  const t = r.scenario.targets;
  const d = r.dispatch;
  const round = (x: number): number => Math.round(x * 10_000) / 10_000;
  return {
    agents: t,
    rollout: rollout(r.scenario),
    gse_calls: r.gseCalls,
    not_connected: r.notConnected,
    write_units_per_agent: round(d.billedUnits / t),
    write_units_per_agent_local: round(d.writeUnits / t),
    agent_item_units_per_agent: round(d.agentUnits / t),
    item_writes_per_agent: round(d.writeItems / t),
    items: { agent: d.agentItems, batch: d.batchItems, ids: d.idsItems, command: d.commandItems },
    read_units: Math.round(d.readUnits),
    write_keys: r.writeKeys,
    hottest_key_write_units: Math.round(r.hottestKeyUnits),
    hottest_key_share: round(r.hottestKeyUnits / Math.max(1, d.billedUnits + r.reply.billedUnits)),
    ...(r.scenario.replies
      ? {
          replies: r.replies.replied,
          reply_write_units: Math.round(r.reply.billedUnits),
          reply_write_units_per_agent: round((d.billedUnits + r.reply.billedUnits) / t),
          reply_read_units: Math.round(r.reply.readUnits),
        }
      : {}),
    status: r.status,
  };
}

/**
 * The `--json` object: the dispatch without reply tracking at the smallest fleet size run (10,000
 * by default) for the headline keys, the tracked run's dispatch + replies for
 * reply_write_units_per_agent, the tracked run's dispatch reads (its ticks' reply counts: each
 * batch's ids and agent items) for reply_read_units_per_agent (the replies' own reads, two small
 * GetItems each, are its run's reply_read_units), and every run's figures.
 */
function figures(runs: readonly Run[]): Record<string, unknown> {
  const untracked = runs.filter((r) => r.scenario.maxConcurrency === undefined && !r.scenario.replies).sort((a, b) => a.scenario.targets - b.scenario.targets);
  const head = untracked[0];
  const tracked = runs.find((r) => r.scenario.tracked && r.scenario.targets === head?.scenario.targets) ?? runs.find((r) => r.scenario.tracked);
  const main = head ? runFigures(head) : {};
  return {
    agents: main.agents,
    gse_calls: main.gse_calls,
    write_units_per_agent: main.write_units_per_agent,
    reply_write_units_per_agent: tracked ? runFigures(tracked).reply_write_units_per_agent : undefined,
    reply_read_units_per_agent: tracked ? Math.round((tracked.dispatch.readUnits / tracked.scenario.targets) * 10_000) / 10_000 : undefined,
    write_units_per_agent_local: main.write_units_per_agent_local,
    agent_item_units_per_agent: main.agent_item_units_per_agent,
    // The tracked run's busiest key, as a share of all its writes, and as the seconds a 100k burst keeps it busy at DynamoDB's 1,000 WCU/s a key.
    reply_hottest_key_share: tracked ? runFigures(tracked).hottest_key_share : undefined,
    reply_hottest_key_seconds_100k: tracked
      ? Math.round((((tracked.hottestKeyUnits / tracked.scenario.targets) * 100_000) / PER_KEY_WCU) * 10) / 10
      : undefined,
    runs: runs.map(runFigures),
  };
}

/** GSE round trips one after another: the request's one batch, then the rest `parallel` at a time. */
const gseRounds = (r: Run): number => 1 + Math.ceil((r.batches - 1) / r.parallel);

function report(
  runs: readonly Run[],
  settings: CommandDeps["settings"],
  loads: readonly [number, number],
  calibration: { withStream: number; withoutStream: number },
): string {
  const timing = runs.map(
    (r) =>
      `| ${n(r.scenario.targets)} | ${rollout(r.scenario)} | ${r.scenario.repeats} | ${r.batches} × ${r.batchSize}, ${r.parallel} at once | ${n(r.notConnected)} (${fmt((100 * r.notConnected) / r.scenario.targets, 1)} %) | ` +
      `${ms(r.answerMs)} (${r.sentInRequest}/${r.batches}) | ${r.ticks} | ${ms(r.submitMs)} | ${ms(r.allSentMs)} | ${ms(r.perBatch.prewrite)} / ${ms(r.perBatch.gse)} / ${ms(r.perBatch.record)} | ` +
      `${r.status} at ${ms(r.finalMs)} | ${r.scenario.replies ? `${n(r.replies.replied)} by ${ms(r.replyMs)}` : "callback off"} |`,
  );
  const cost = runs.map((r) => {
    const t = r.scenario.targets;
    const d = r.dispatch;
    const replies = r.replies.replied + r.replies.duplicate + r.replies.upstream;
    return (
      `| ${n(t)} | ${rollout(r.scenario)} | ${r.gseCalls} | ${n(d.writeCalls)} | ${n(d.writeItems)} (**${per(d.writeItems, t, 3)}**) | ` +
      `${n(d.agentItems)} / ${n(d.batchItems)} / ${n(d.idsItems)} / ${n(d.commandItems)} | ${n(d.transactItems)} | ${n(d.conditionFailures)} | ` +
      `${n(Math.round(d.writeUnits))} / ${n(Math.round(billedUnits(r)))} (**${per(billedUnits(r), t, 3)}**) | ${n(d.readCalls)} / ${n(Math.round(d.readUnits))} | ` +
      (r.scenario.replies
        ? `${n(r.reply.writeItems)} (${per(r.reply.writeItems, replies)}) / ${n(Math.round(r.reply.billedUnits))} (${per(r.reply.billedUnits, replies)}) / ${n(r.reply.readCalls)} (${per(r.reply.readCalls, replies)}) | ` +
          `**${per(billedUnits(r) + r.reply.billedUnits, t, 3)}** |`
        : "– | – |")
    );
  });
  const untracked = runs.filter((r) => r.scenario.maxConcurrency === undefined && !r.scenario.replies);
  const big = untracked.reduce<Run | undefined>((a, r) => (a === undefined || r.scenario.targets > a.scenario.targets ? r : a), undefined);
  const ten = runs.find((r) => r.scenario.targets === 10_000 && r.scenario.maxConcurrency === undefined && !r.scenario.replies);
  const withReplies = runs.find((r) => r.scenario.replies && !r.scenario.tracked);
  const tracked = runs.find((r) => r.scenario.tracked);
  const pct = runs.find((r) => r.scenario.maxConcurrency !== undefined);
  const notes: string[] = [];
  if (big) {
    const d = big.dispatch;
    const b = big.perBatch;
    const t = big.scenario.targets;
    const failureUnits = d.agentUnits;
    notes.push(
      `**Where the writes go.** A command that awaits no reply writes no item per agent before sending (lib/commands/store/items.ts): at ${n(t)} agents`,
      `the dispatch wrote ${n(d.writeItems)} items (${per(d.writeItems, t, 3)} per agent) for ${big.gseCalls} GSE calls: ${n(d.idsItems)} ids and members items (each batch's`,
      "agent ids once, gzipped, never rewritten, and the agents again by id hash so a reply finds its batch; spread over 8 partition keys),",
      `${n(d.batchItems)} batch-state writes (put, claim, complete: each a small item), ${n(d.commandItems)} command/index writes (counter updates in the`,
      `batches' transactions), and ${n(d.agentItems)} agent items: one per agent GSE refused (${fmt((100 * big.notConnected) / t, 1)} % not connected here), a conditional write`,
      "each, counted on the command by its batch's completion. Those failure items are",
      `${n(failureUnits)} of the ${n(Math.round(billedUnits(big)))} write units DynamoDB would bill (${per(failureUnits, t, 3)} per agent); everything else is ${per(billedUnits(big) - failureUnits, t, 3)} per agent.`,
      "A failure has to leave an item (its retry, the listing and the alert read it), so with 10 % of the fleet unreachable the floor is",
      "≈ 0.1 WRU per agent for those items alone; with every agent connected (the rollout row) the dispatch costs what the batches do.",
      `Per batch of ${big.batchSize} the agent prewrites took ${ms(b.prewrite)} ms (none: nothing is prewritten without reply tracking), recording failures and the`,
      `completion ${ms(b.record)} ms, the GSE call ${ms(b.gse)} ms (summed per batch; ${big.parallel} batches overlap). Ending the command reads only the items there`,
      `are (failures, replies) and the batches: every batch sent at ${ms(big.allSentMs)} ms, ${big.status} at ${ms(big.finalMs)} ms.`,
      "Write units: DynamoDB Local's report, and the estimate of DynamoDB's bill (bench/commands.ts countingClient): a put by its size",
      "(1 WRU per started KB, as DynamoDB counts an item's bytes), an update 1 (every item updated here is under 1 KB), ×2 in a transaction,",
      "refused writes included.",
    );
  }
  if (tracked) {
    const t = tracked.scenario.targets;
    const replies = tracked.replies.replied + tracked.replies.duplicate + tracked.replies.upstream;
    const plain = runs.find((r) => r.scenario.targets === t && r.scenario.maxConcurrency === undefined && !r.scenario.tracked);
    notes.push(
      "",
      `**Awaiting replies** (reply_timeout_seconds ${TRACKED_REPLY_TIMEOUT_SECONDS}) writes no agent item before a reply either (${n(tracked.dispatch.agentItems)} agent items in the dispatch:`,
      "its delivery failures). A reply to an agent without an item creates it by one conditional PutItem (`by_batch`), with no transaction and no write",
      `to the command: ${per(tracked.reply.billedUnits, replies)} WRU per reply on ${n(replies)} replies. The command's tick counts each SENT batch's replies (and reply timeouts) onto the`,
      "command's in-flight and error counters, one transaction per batch and count (lib/commands/reply-count.ts): the dispatch with those counts",
      `cost ${per(billedUnits(tracked), t, 3)} WRU per agent${plain ? ` against ${per(billedUnits(plain), t, 3)} without reply tracking` : ""}, for **${per(billedUnits(tracked) + tracked.reply.billedUnits, t, 3)} WRU per agent** in all,`,
      `dispatch and replies. The counts read the agents of the batches still open (BatchGetItem by each batch's ids), once a tick: ${n(Math.round(tracked.dispatch.readUnits))} read units`,
      `in this run's dispatch (**${per(tracked.dispatch.readUnits, t, 3)} per agent**), besides the replies' own ${n(Math.round(tracked.reply.readUnits))} (the command and a members bucket, one GetItem each).`,
      "",
      `**Partition keys.** The command's writes, dispatch and replies, went to ${n(tracked.writeKeys)} partition keys; the busiest took ${n(Math.round(tracked.hottestKeyUnits))} WRU,`,
      `${fmt((100 * tracked.hottestKeyUnits) / Math.max(1, tracked.dispatch.billedUnits + tracked.reply.billedUnits), 1)} % of them. Agent items spread over the command's agent shards (lib/commands/store/items.ts agentPk),`,
      `so at DynamoDB's ${n(PER_KEY_WCU)} WCU/s a key the busiest key of a 100,000-agent burst is busy ≈ ${fmt(((tracked.hottestKeyUnits / t) * 100_000) / PER_KEY_WCU, 1)} s (every agent item under the command's one key: ≥ 100 s).`,
    );
  }
  if (ten && pct) {
    notes.push(
      "",
      `**Rollout cost.** max_concurrency "10%" on 10,000 agents sends its ${pct.batches} batches one at a time instead of ${ten.parallel} at once, for the same GSE`,
      `calls (${pct.gseCalls} vs ${ten.gseCalls}) and writes (${n(pct.dispatch.writeItems)} vs ${n(ten.dispatch.writeItems)} items): all sent after ${ms(pct.allSentMs)} ms against ${ms(ten.allSentMs)} ms. On this`,
      "machine DynamoDB Local is the bottleneck either way, so parallel batches mostly queue on it; the limit bounds what is in flight,",
      `and nothing waits for replies between batches. With GSE at ≈ ${MODELED_GSE_MS / 1000} s a batch (a model, not measured; the request sends the first batch,`,
      `the tick the rest), the 10 % rollout spends ≈ ${fmt((gseRounds(pct) * MODELED_GSE_MS) / 1000, 1)} s waiting on GSE against ≈ ${fmt((gseRounds(ten) * MODELED_GSE_MS) / 1000, 1)} s for ${ten.parallel} at a time.`,
    );
  }
  if (withReplies) {
    const r = withReplies;
    const replies = r.replies.replied + r.replies.duplicate + r.replies.upstream;
    notes.push(
      "",
      `**Replies** to a command awaiting none create the agent's item (lib/commands/reply.ts → markReplied: one conditional PutItem), after one consistent`,
      `GetItem of the command and one of the agent's members bucket (whether it was targeted, and its batch): ${per(r.reply.writeItems, replies)} writes (${per(r.reply.billedUnits, replies)} WRU)`,
      `and ${per(r.reply.readCalls, replies)} reads per reply, measured on ${n(replies)} replies at ${n(r.scenario.targets)} agents.`,
      `Arriving while the batches go out, they share DynamoDB Local with the dispatch: all sent after ${ms(r.allSentMs)} ms with replies on${ten ? ` against ${ms(ten.allSentMs)} ms without` : ""},`,
      `the last reply recorded at ${ms(r.replyMs)} ms. In the other runs the callback is off; their replies would cost the same per reply.`,
    );
  }
  return [
    "`dispatchCommand` (lib/commands/api.ts, what POST /api/v2/cluster/dispatch_message runs) driven in-process against DynamoDB Local",
    "(in memory, a fresh commands table per run, keys as deployed but without its stream: nothing reads it here) and the GSE simulator",
    "(in this process: 100,000 agents, no status churn; its default ~10 % of agents are not running, and GSE refuses delivery to",
    "those). The product's default settings",
    `(config defaults: dispatch batch size ${settings.batchSize}, GSE concurrency ${settings.gseConcurrency}, send budget ${settings.sendBudgetMs / 1000} s) except`,
    "**COMMAND_MAX_ATTEMPTS=1**: agents GSE reports not connected fail for good at once, so the command reaches its final status",
    "(PARTIAL) as soon as every batch is sent, with no retry pending. With the default 5 attempts it would stay RUNNING through up",
    "to 4 retries per failed agent with backoff (30 s base), each retry one GSE call for that one agent.",
    "The automation queue is a **recorder**: jobs are kept, and the immediate tick jobs the request hands over (it sends the first",
    `batch; the queue's tick sends the rest) are run here at once with the automation function's tick budget (${TICK_BUDGET_MS / 1000} s), as SQS`,
    'would deliver them (SQS delivery latency not included). In the run marked "replies on", plugin replies (the simulator POSTs one',
    "per delivered agent) go to an in-process HTTP callback running `receiveCallback` on a DynamoDB client of its own, concurrently",
    "with the dispatch, as in production; their writes are counted apart. A small command (2,000 agents) warms up first, unreported.",
    "Times are from the request on; submit = until the first batch is claimed (command and batch items recorded); per-batch times are",
    "summed over the batches and divided by their count (batches in flight together overlap). Writes are items as DynamoDB bills",
    "them: a BatchWriteItem or a transaction counts each of its items; refused writes (condition failed, transaction conflict) are",
    "counted too. Write units: what DynamoDB Local reports (ReturnConsumedCapacity), and what DynamoDB would bill (see below).",
    `DynamoDB Local here took ${n(Math.round(calibration.withStream))} agent items/s into the commands table with its stream and ${n(Math.round(calibration.withoutStream))}/s without`,
    "(`prewriteAgents`, 2,000 items, 16 BatchWriteItem calls in flight, measured in this run); DynamoDB's stream costs writes nothing, DynamoDB",
    "Local's does, so the runs use the table without it. The times below are DynamoDB Local's, an upper bound for DynamoDB.",
    `Machine load (1-minute load average) at start and end: ${fmt(loads[0], 1)} and ${fmt(loads[1], 1)} on 2 cores; wall times move with it,`,
    "calls and writes do not.",
    "",
    "| agents | rollout | runs (median) | batches | not connected (failed) | answer ms (batches sent in request) | tick jobs | submit ms | all batches sent ms | per batch: prewrite / GSE / record ms | final status at ms | replies recorded by ms |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ...timing,
    "",
    "| agents | rollout | GSE dispatch_message calls | DynamoDB write calls | write items (**per agent**) | agent / batch / ids / command items | of which in transactions | writes refused (condition, conflict) | write units: DynamoDB Local / DynamoDB estimate (**per agent**) | read calls / units | reply writes (per reply) / write units (per reply) / reads (per reply) | dispatch + reply write units per agent |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ...cost,
    "",
    ...notes,
  ].join("\n");
}

/**
 * The product's settings as config gives them by default, with final failures at once
 * (COMMAND_MAX_ATTEMPTS=1), and a GSE client to the simulator: what the command benchmarks run with.
 */
export function benchCommandSetup(sim: GseSimulator): { config: ReturnType<typeof loadConfig>; settings: CommandDeps["settings"]; gse: GseClient } {
  const config = loadConfig(
    { GSE_BASE_URL: sim.url, GSE_APP_CODE: CREDENTIAL.bk_app_code, GSE_SLOT_ID: String(sim.slot.slot_id), COMMAND_MAX_ATTEMPTS: "1" },
    () => undefined,
    [],
  );
  const gse = new GseClient({
    gse: {
      baseUrl: sim.url,
      flavour: "v2",
      appCode: CREDENTIAL.bk_app_code,
      appSecret: CREDENTIAL.bk_app_secret,
      username: config.gse.username,
      timeoutMs: config.gse.timeoutMs,
      maxAttempts: config.gse.maxAttempts,
    },
  });
  return { config, settings: commandSettings(config), gse };
}

export const commandsBenchmark: Benchmark = {
  name: "commands",
  async run(options = {}) {
    const scenarios = options.agents === undefined ? DEFAULT_SCENARIOS : scenariosFor(options.agents);
    const agents = Math.max(...scenarios.map((s) => s.targets));
    const dir = mkdtempSync(join(tmpdir(), "gse-bench-commands-"));
    const log = createLogSink(join(dir, "dynamodb.log"));
    const [dynamodb, sim] = await Promise.all([
      getPort().then((port) => startDynamoDbLocal({ port, log })),
      startGseSimulator({ agents, tickMs: 0, credentials: [CREDENTIAL] }),
    ]);
    const dynamo = new DynamoDBClient(localClientConfig(dynamodb.endpoint));
    let replies: ReplyServer | undefined;
    try {
      const { settings, gse } = benchCommandSetup(sim);
      const parts: Parts = {
        dynamo,
        sim,
        gse,
        replies: undefined as unknown as ReplyServer,
        settings,
        slot: { slotId: sim.slot.slot_id, slotToken: sim.slot.token },
        table: "",
      };
      replies = await startReplyServer(dynamo, () => parts.table, settings.retentionMs);
      (parts as { replies: ReplyServer }).replies = replies;
      const fleet = sim.listAgents({ offset: 0, limit: agents });
      const loadBefore = loadavg()[0] ?? 0;
      const calibration = await calibrate(dynamo);
      process.stdout.write(
        `DynamoDB Local: ${Math.round(calibration.withStream)} agent items/s with the stream, ${Math.round(calibration.withoutStream)} without\n`,
      );
      // A windowed command holds an agent that waits for a retry in flight (docs/rollouts.md §1), and
      // this loop runs no retry rounds: its targets are connected agents, so it measures the window's pacing.
      const connected = fleet.filter((a) => a.status_code === RUNNING_STATUS);
      const run = (scenario: Scenario): Promise<Run> => {
        const targets = (scenario.maxConcurrency === undefined ? fleet : connected).slice(0, scenario.targets);
        const notConnected = targets.filter((a) => a.status_code !== RUNNING_STATUS).length;
        return runScenario(
          scenario,
          targets.map((a) => a.bk_agent_id ?? a.legacy_id),
          notConnected,
          parts,
        );
      };
      // The JVM and the process warm up on a small command first; it is not reported.
      await run({ targets: WARM_UP_TARGETS, replies: true, repeats: 1 });
      const runs: Run[] = [];
      for (const scenario of scenarios) {
        // Wall time on a shared 2-core machine is noisy: the median of a few runs where they are cheap.
        const repeats: Run[] = [];
        for (let i = 0; i < scenario.repeats; i++) repeats.push(await run(scenario));
        const sorted = [...repeats].sort((a, b) => a.allSentMs - b.allSentMs);
        runs.push(sorted[Math.floor(sorted.length / 2)] as Run);
      }
      return { report: report(runs, settings, [loadBefore, loadavg()[0] ?? 0], calibration), json: figures(runs) };
    } finally {
      await replies?.close();
      dynamo.destroy();
      await Promise.all([dynamodb.stop(), sim.stop()]);
      await log.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
