/**
 * Rollouts: 100,000 agents in linear waves of 10 % with zero bake, driven in-process through the
 * same lib code the rollout route and the automation queue run (`startRollout`, `tickRollout`, the
 * command tick job) against DynamoDB Local (in memory) and the GSE simulator. Every DynamoDB
 * request of the rollout, its wave commands and the gate is counted by wrapping the document
 * client's `send` (bench/commands.ts countingClient); GSE calls come from the simulator's counters.
 * The fleet already watches the agents (registered before the count starts), as it does in production
 * for agents the heartbeat polls, so the rollout's own registration finds them known.
 */
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import getPort from "get-port";
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { tickJobHandler } from "../lib/commands/retry.ts";
import { COMMAND_TICK_JOB, type CommandDeps } from "../lib/commands/settings.ts";
import { CommandStore } from "../lib/commands/store.ts";
import type { QueueRecord } from "../lib/core/records.ts";
import { fleetSettings } from "../lib/fleet/deps.ts";
import { registerAgents } from "../lib/fleet/service.ts";
import { FleetStore } from "../lib/fleet/store.ts";
import { TABLES } from "../lib/resources.ts";
import { getRollout, startRollout } from "../lib/rollouts/api.ts";
import { DEFAULT_ROLLOUT_SETTINGS, type RolloutDeps } from "../lib/rollouts/deps.ts";
import { tickRollout } from "../lib/rollouts/engine.ts";
import { RolloutStore } from "../lib/rollouts/store.ts";
import { TemplateStore } from "../lib/templates/store.ts";
import { localClientConfig } from "../local/aws.ts";
import { startDynamoDbLocal, tableSpec } from "../local/dynamodb.ts";
import { RUNNING_STATUS, startGseSimulator } from "../local/gse-simulator/index.ts";
import { createLogSink } from "../local/process.ts";
import { benchCommandSetup, commandsTable, countingClient, CREDENTIAL, recordingQueue } from "./commands.ts";
import { fmt, type Benchmark } from "./stats.ts";

const DEFAULT_AGENTS = 100_000;
/** The simulator marks ~10 % of its agents not running: make enough that the targets are all connected. */
const simAgentsFor = (targets: number): number => Math.ceil(targets * 1.2) + 100;
const FINAL = new Set(["SUCCEEDED", "ABORTED", "CANCELLED"]);

export interface RolloutsResult {
  readonly agents: number;
  readonly waves: number;
  readonly wave_sizes: number[];
  readonly status: string;
  readonly gse_calls: number;
  readonly write_items: number;
  readonly write_items_per_agent: number;
  readonly write_units: number;
  readonly write_units_per_agent: number;
  /** What DynamoDB would bill (bench/commands.ts countingClient: puts by item size, ×2 in a transaction). */
  readonly billed_write_units: number;
  readonly billed_write_units_per_agent: number;
  readonly transact_items: number;
  readonly read_units: number;
  readonly rollout_ticks: number;
  readonly command_ticks: number;
  readonly wall_ms: number;
  readonly load: readonly [number, number];
}

export async function measureRollouts(agents = DEFAULT_AGENTS): Promise<RolloutsResult> {
  const dir = mkdtempSync(join(tmpdir(), "gse-bench-rollouts-"));
  const log = createLogSink(join(dir, "dynamodb.log"));
  const [dynamodb, sim] = await Promise.all([
    getPort().then((port) => startDynamoDbLocal({ port, log })),
    startGseSimulator({ agents: simAgentsFor(agents), tickMs: 0, credentials: [CREDENTIAL] }),
  ]);
  const dynamo = new DynamoDBClient(localClientConfig(dynamodb.endpoint));
  const suffix = Date.now();
  const commandsName = `bench-rollouts-commands-${suffix}`;
  const fleetName = `bench-rollouts-fleet-${suffix}`;
  try {
    await dynamo.send(new CreateTableCommand(commandsTable(commandsName, false)));
    await dynamo.send(new CreateTableCommand({ ...tableSpec(TABLES.fleet, fleetName), StreamSpecification: undefined }));
    const { config, settings, gse } = benchCommandSetup(sim);
    const targets = sim
      .listAgents({ offset: 0, limit: simAgentsFor(agents) })
      .filter((a) => a.status_code === RUNNING_STATUS)
      .slice(0, agents)
      .map((a) => a.bk_agent_id ?? a.legacy_id);
    if (targets.length < agents) throw new Error(`the simulator has only ${targets.length} running agents`);

    // The fleet watches the agents already (not counted): the heartbeat's fleet in production.
    const plain = DynamoDBDocumentClient.from(dynamo);
    const fleetOf = (client: DynamoDBDocumentClient) => ({
      store: new FleetStore({ client, tableName: fleetName }),
      now: Date.now,
      settings: fleetSettings(config),
    });
    await registerAgents(fleetOf(plain), targets, "api");

    const { doc, counts } = countingClient(dynamo);
    const queue = recordingQueue();
    const commands: CommandDeps = {
      store: new CommandStore({ client: doc, tableName: commandsName }),
      gse,
      slot: { slotId: sim.slot.slot_id, slotToken: sim.slot.token },
      queue,
      settings,
      now: Date.now,
      random: Math.random,
    };
    const deps: RolloutDeps = {
      store: new RolloutStore({ client: doc, tableName: commandsName }),
      commands,
      fleet: fleetOf(doc),
      templates: new TemplateStore({ client: doc, tableName: commandsName }),
      // No gate trips in this run: an alert would be a failure of the benchmark.
      alerts: {
        publish: async (alert) => {
          throw new Error(`unexpected alert ${alert.type}`);
        },
      },
      queue,
      now: Date.now,
      settings: DEFAULT_ROLLOUT_SETTINGS,
    };
    const id = `bench-rollout-${suffix}`;
    const loadBefore = loadavg()[0] ?? 0;
    const gseBefore = sim.counters().calls.dispatch_message;
    const started = performance.now();
    await startRollout(
      deps,
      {
        rollout_id: id,
        content: JSON.stringify({ action: "start", probe: "bench", params: { interval: 60 } }),
        settings: { strategy: { kind: "linear", wave_size: "10%" }, bake_seconds: 0 },
        agent_ids: targets,
      },
      "bench",
    );
    // What the queue would do: each immediate command tick at once, and the rollout's tick whenever
    // nothing else is left (its own delay is a polling period, not something to wait for here).
    const tick = tickJobHandler(commands, (settings.sendBudgetMs || 60_000) * 10);
    let rolloutTicks = 0;
    let commandTicks = 0;
    let view = await getRollout(deps, id);
    for (let guard = 0; !FINAL.has(view.status) && guard < 10_000; guard++) {
      const next = queue.jobs.findIndex((j) => j.job.type === COMMAND_TICK_JOB && j.delaySeconds === 0);
      if (next >= 0) {
        const [{ job }] = queue.jobs.splice(next, 1) as [(typeof queue.jobs)[number]];
        commandTicks++;
        await tick(job, { messageId: `bench-tick-${commandTicks}` } as QueueRecord);
        continue;
      }
      rolloutTicks++;
      await tickRollout(deps, id);
      view = await getRollout(deps, id);
    }
    const wallMs = performance.now() - started;
    if (!FINAL.has(view.status)) throw new Error(`the rollout did not end: ${view.status}, wave ${view.current_wave}`);
    return {
      agents,
      waves: view.waves.length,
      wave_sizes: view.waves.map((w) => w.size),
      status: view.status,
      gse_calls: sim.counters().calls.dispatch_message - gseBefore,
      write_items: counts.writeItems,
      write_items_per_agent: counts.writeItems / agents,
      write_units: Math.round(counts.writeUnits),
      write_units_per_agent: counts.writeUnits / agents,
      billed_write_units: Math.round(counts.billedUnits),
      billed_write_units_per_agent: counts.billedUnits / agents,
      transact_items: counts.transactItems,
      read_units: Math.round(counts.readUnits),
      rollout_ticks: rolloutTicks,
      command_ticks: commandTicks,
      wall_ms: Math.round(wallMs),
      load: [loadBefore, loadavg()[0] ?? 0],
    };
  } finally {
    await dynamo.send(new DeleteTableCommand({ TableName: commandsName })).catch(() => undefined);
    dynamo.destroy();
    await Promise.all([dynamodb.stop(), sim.stop()]);
    await log.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function report(r: RolloutsResult): string {
  const n = (x: number): string => x.toLocaleString("en");
  return [
    `A rollout (lib/rollouts: \`startRollout\`, then \`tickRollout\` and the command tick job as the automation queue runs them) of ${n(r.agents)}`,
    "connected agents in linear waves of 10 % with zero bake and no reply tracking (an agent settles on delivery), against DynamoDB",
    "Local (in memory; the commands table without its stream, as in the commands benchmark) and the GSE simulator in this process.",
    "The product's default settings (batch size, GSE concurrency) with COMMAND_MAX_ATTEMPTS=1. The fleet watches the agents",
    "before the count starts. Every DynamoDB request of the rollout, its wave commands and the fleet is counted; GSE calls from",
    `the simulator. Load average at start and end: ${fmt(r.load[0], 1)} and ${fmt(r.load[1], 1)} on this machine's cores.`,
    "",
    "| agents | waves (sizes) | status | GSE dispatch_message calls | write items (per agent) | write units, DynamoDB Local (per agent) | write units, DynamoDB estimate (per agent) | of which in transactions | read units | rollout ticks / command ticks | wall ms |",
    "|---|---|---|---|---|---|---|---|---|---|---|",
    `| ${n(r.agents)} | ${r.waves} (${[...new Set(r.wave_sizes)].map(n).join(", ")}) | ${r.status} | ${n(r.gse_calls)} | ${n(r.write_items)} (**${fmt(r.write_items_per_agent, 3)}**) | ` +
      `${n(r.write_units)} (${fmt(r.write_units_per_agent, 3)}) | ${n(r.billed_write_units)} (**${fmt(r.billed_write_units_per_agent, 3)}**) | ${n(r.transact_items)} | ${n(r.read_units)} | ${r.rollout_ticks} / ${r.command_ticks} | ${n(r.wall_ms)} |`,
    "",
    "The goal shared with the dispatch path (issue 23) is ≤ 0.05 write units per agent. A wave is a tracked command without",
    "reply tracking here, so its cost per agent is the dispatch path's: no agent item (none fails: the agents are connected), each",
    "batch's ids once (gzipped) and its members buckets, the batch-state and counter writes; the rollout itself adds its snapshot",
    "(one item per 1,000 targets), one item per wave and its own state changes. The estimate bills puts by item size (1 WRU per",
    "started KB) and doubles writes in transactions, as DynamoDB does; DynamoDB Local's own figure is beside it.",
  ].join("\n");
}

export const rolloutsBenchmark: Benchmark = {
  name: "rollouts",
  async run(options) {
    const result = await measureRollouts(options?.agents ?? DEFAULT_AGENTS);
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return { report: report(result), json: { ...result } };
  },
};
