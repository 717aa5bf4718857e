/**
 * `npm run bench cost [-- --agents N] [--json]`: what gse-control costs a month for a fleet (default
 * 100,000 agents) with a one-minute heartbeat and 1 % of the agents changing class every poll, priced
 * line by line (bench/cost-model.ts) from counts measured here, now: the heartbeat's steady state
 * (bench/heartbeat.ts measureHeartbeat, 10 polls, medians) and the write units of a dispatch
 * (bench/commands.ts at 10,000 agents, or the fleet if smaller; per agent, they do not depend on the fleet's size). Beside
 * it, the naive system: a poll that reads and writes the whole fleet every minute, with the same
 * concurrency, and a dispatch that writes every agent's item (issue 23's starting point).
 */
import { FLEET_STATE_READ_CONCURRENCY } from "../lib/agent-state/fleet-state.ts";
import { COMMAND_TABLE_CONCURRENCY } from "../lib/commands/store.ts";
import { AGENT_SHARDS } from "../lib/commands/store/items.ts";
import { FUNCTIONS } from "../lib/wiring.ts";
import { commandsBenchmark } from "./commands.ts";
import { type CostInputs, costTable, LATENCY, monthlyCost, POLLS_PER_MONTH, PRICES, pollMs, usd } from "./cost-model.ts";
import { FLEET_CACHE_MAX_AGENTS } from "../lib/heartbeat/fleet-cache.ts";
import { measureHeartbeat, medianPoll, SETTINGS } from "./heartbeat.ts";
import type { Benchmark, BenchmarkResult } from "./stats.ts";

const DEFAULT_AGENTS = 100_000;
/** Agents of the dispatch measured for its write units per agent. */
const DISPATCH_AGENTS = 10_000;

/** The load this model states for bk-monitor and the operators (no figure of theirs is published). */
export const WORKLOAD = {
  /** bk-monitor refreshes every agent's state once an hour, 1000 ids a request... */
  fullRefreshesPerHour: 1,
  idsPerRequest: 1000,
  /** ...and asks for one agent at a time about once a second (host pages, checks). */
  singleQueriesPerSecond: 1,
  /** One whole-fleet dispatch_message a day, no reply tracking. */
  dispatchesPerMonth: 30,
} as const;

/** What the naive dispatch wrote per agent before issue 23 (BENCHMARKS.md of 2026-11-25: 1.367 WRU as DynamoDB bills). */
const NAIVE_DISPATCH_WRITE_UNITS_PER_AGENT = 1.367;

/**
 * A fleet item read consistently (the agent-state path reads a watched agent's item by key,
 * BatchGetItem, ConsistentRead) is one read unit: the items are under 4 KB.
 */
const READ_UNITS_PER_AGENT_QUERIED = 1;

function inputsOf(
  agents: number,
  poll: { gseCalls: number; readCalls: number; readUnits: number; writeCalls: number; writeUnits: number; historyItems: number; cpuMs: number },
  dispatch: { writeUnitsPerAgent: number },
): CostInputs {
  const hoursPerMonth = 30 * 24;
  const fullRequests = Math.ceil(agents / WORKLOAD.idsPerRequest) * WORKLOAD.fullRefreshesPerHour * hoursPerMonth;
  const singleRequests = WORKLOAD.singleQueriesPerSecond * 3600 * hoursPerMonth;
  const requestsPerMonth = fullRequests + singleRequests;
  const idsPerMonth = fullRequests * WORKLOAD.idsPerRequest + singleRequests;
  return {
    agents,
    heartbeat: { ...poll, alerts: 2, queuedShards: 0 },
    heartbeatFunction: { memoryMb: FUNCTIONS.heartbeat.memoryMb, gseConcurrency: SETTINGS.concurrency, dynamoConcurrency: SETTINGS.writeConcurrency },
    queries: {
      requestsPerMonth,
      idsPerRequest: Math.round(idsPerMonth / requestsPerMonth),
      readUnitsPerRequest: (idsPerMonth * READ_UNITS_PER_AGENT_QUERIED) / requestsPerMonth,
      dynamoCallsPerRequest: Math.ceil(idsPerMonth / requestsPerMonth / 100) + 1,
      gseCallsPerRequest: 0,
      gseConcurrency: SETTINGS.concurrency,
      dynamoConcurrency: FLEET_STATE_READ_CONCURRENCY,
      memoryMb: FUNCTIONS.list_agent_state.memoryMb,
    },
    commands: {
      dispatchesPerMonth: WORKLOAD.dispatchesPerMonth,
      writeUnitsPerAgent: dispatch.writeUnitsPerAgent,
      gseCallsPerDispatch: Math.ceil(agents / 1000),
      dynamoCallsPerDispatch: Math.ceil(agents / 1000) * 4,
      queueMessagesPerDispatch: 1,
      gseConcurrency: SETTINGS.concurrency,
      dynamoConcurrency: COMMAND_TABLE_CONCURRENCY,
      memoryMb: FUNCTIONS.automation.memoryMb,
    },
    storage: { fleetItemBytes: 600, historyItemBytes: 400, historyRetentionDays: 30 },
    logs: { bytesPerPoll: 4000, bytesPerRequest: 600 },
  };
}

/** A month of 100,000 agents, from a figure measured at `agents`. */
const per100k = (usd: number, agents: number): number => Math.round(((usd * 100_000) / agents) * 100) / 100;

/**
 * What the heartbeat's writes alone would cost if each poll wrote exactly issue 23's heartbeat target:
 * one write unit per class transition and one per history item, nothing else. It is the floor of
 * that line for any design that keeps one agent item per agent and writes it when its class changes;
 * the other lines are added as measured, to show how far the month is from it.
 */
function heartbeatWriteFloor(
  agents: number,
  transitionsPerPoll: number,
  historyItemsPerPoll: number,
  totalUsd: number,
): { lines: string[]; json: Record<string, unknown> } {
  const unitsPerPoll = transitionsPerPoll + historyItemsPerPoll;
  const writesUsd = unitsPerPoll * POLLS_PER_MONTH * PRICES.dynamoWriteUnit;
  return {
    lines: [
      "**Floor of the heartbeat's writes.** At exactly one write unit per class transition and one per history item",
      `(issue 23's heartbeat target) this scenario writes ${unitsPerPoll.toLocaleString("en")} units a poll (${transitionsPerPoll.toLocaleString("en")} transitions +`,
      `${historyItemsPerPoll.toLocaleString("en")} history items): ${usd(writesUsd)} a month for that line alone, ${usd(per100k(writesUsd, agents))} per 100,000 agents.`,
      `The month measured above is ${usd(totalUsd)}. Going lower needs fewer writes than one per changed agent item (transitions stored`,
      "grouped per partition and poll, read merged): that is a different store of agent state, not a tuning of this one.",
    ],
    json: {
      write_units_per_poll: unitsPerPoll,
      usd_per_month_100k: per100k(writesUsd, agents),
    },
  };
}

/** The heartbeat's defaults (lib/core/config.ts, lib/heartbeat/poll.ts): what the planner shards by. */
const HEARTBEAT_BUDGET_MS = 40_000;
const PLAN_SHARE_OF_BUDGET = 0.5;
/** What one DynamoDB partition takes (AWS's documented per-partition limits). */
const PARTITION_WCU_PER_S = 1000;
const FLEET_PARTITION_KEYS = 64;

/**
 * The measured run scaled on paper to `target` agents: the heartbeat's counts grow with the fleet
 * (calls by chunks of 1000, writes by the 1 % that changes, the backstop's one partition a poll by
 * its size), so each is the measured figure × target/measured; the rest follows from the settings.
 */
function scaleSection(
  measured: CostInputs,
  target: number,
  poll: { readUnits: number },
  fullReadUnits: number,
  warmCacheHeapMb: number,
): { lines: string[]; json: Record<string, unknown> } {
  const k = target / measured.agents;
  // A warm instance may have run every shard in turn: it holds the whole fleet, up to the cache's bound.
  const heldAgents = Math.min(target, FLEET_CACHE_MAX_AGENTS);
  const heapMb = (warmCacheHeapMb / measured.agents) * heldAgents;
  const memoryMb = measured.heartbeatFunction.memoryMb;
  const hb = measured.heartbeat;
  const scaled = inputsOf(
    target,
    {
      gseCalls: hb.gseCalls * k,
      readCalls: hb.readCalls * k,
      readUnits: poll.readUnits * k,
      writeCalls: hb.writeCalls * k,
      writeUnits: hb.writeUnits * k,
      historyItems: hb.historyItems * k,
      cpuMs: hb.cpuMs * k,
    },
    { writeUnitsPerAgent: measured.commands.writeUnitsPerAgent },
  );
  const oneInvocationMs = pollMs(scaled);
  const shards = Math.min(FLEET_PARTITION_KEYS, Math.max(1, Math.ceil(oneInvocationMs / (HEARTBEAT_BUDGET_MS * PLAN_SHARE_OF_BUDGET))));
  const gseInFlight = shards * scaled.heartbeatFunction.gseConcurrency;
  const gsePerSecond = scaled.heartbeat.gseCalls / 60;
  const shardMs = oneInvocationMs / shards;
  const writesPerKeyPerS = scaled.heartbeat.writeUnits / FLEET_PARTITION_KEYS / (shardMs / 1000);
  const failureShare = 0.1;
  const dispatchFailures = target * failureShare;
  const cost = monthlyCost({ ...scaled, heartbeat: { ...scaled.heartbeat, queuedShards: shards - 1 } });
  const lines = [
    `### Scale on paper: ${target.toLocaleString("en")} agents`,
    "",
    `From this run's counts at ${measured.agents.toLocaleString("en")} agents, each × ${k} (they grow with the fleet), the settings as deployed and the latency model above:`,
    "",
    `| what | at ${target.toLocaleString("en")} | how |`,
    "|---|---|---|",
    `| heartbeat shards | ${shards} | one invocation would take ${Math.round(oneInvocationMs / 1000)} s modelled; the planner aims each shard at ${PLAN_SHARE_OF_BUDGET * 100} % of the ${HEARTBEAT_BUDGET_MS / 1000} s budget |`,
    `| GSE calls | ${Math.round(scaled.heartbeat.gseCalls)} a poll, ${gsePerSecond.toFixed(1)}/s, ${gseInFlight} in flight | 1000 ids a call, ${scaled.heartbeatFunction.gseConcurrency} in flight a shard; against GSE's gateway limit for our app (set by the GSE operator, 429 RATE_LIMIT_RESTRICTION beyond it, which the client backs off from) |`,
    `| fleet table writes | ${Math.round(scaled.heartbeat.writeUnits).toLocaleString("en")} WU a poll, ≈ ${Math.round(writesPerKeyPerS)} WU/s a partition key while a shard runs | ${FLEET_PARTITION_KEYS} keys; a DynamoDB partition takes ${PARTITION_WCU_PER_S} WCU/s |`,
    `| fleet table reads | ${Math.round(scaled.heartbeat.readUnits).toLocaleString("en")} RU a poll of ${Math.round(fullReadUnits * k).toLocaleString("en")} for a full read | warm instances re-read only partitions whose revision moved, plus one a minute |`,
    `| commands table, a whole-fleet dispatch | ${Math.ceil(target / 1000)} batches; ≈ ${dispatchFailures.toLocaleString("en")} failure items (10 % not connected) over the command's ${AGENT_SHARDS} agent keys: ≥ ${Math.ceil(dispatchFailures / AGENT_SHARDS / PARTITION_WCU_PER_S)} s at ${PARTITION_WCU_PER_S} WCU/s a key (their retry entries, 4 WU each in a transaction with the agent's move, on the same keys: ≥ ${Math.ceil((dispatchFailures * 4) / AGENT_SHARDS / PARTITION_WCU_PER_S)} s) | batch ids over 8 keys, agent items and retry entries over ${AGENT_SHARDS} (by a hash of the agent id); the command's own key keeps its item, its batches' state and its retry jobs |`,
    `| replies | ${target.toLocaleString("en")} reply items (one conditional put each, with reply tracking or without) over ${AGENT_SHARDS} keys: ≤ ${(AGENT_SHARDS * PARTITION_WCU_PER_S).toLocaleString("en")}/s, ≥ ${Math.ceil(target / AGENT_SHARDS / PARTITION_WCU_PER_S)} s | a reply writes no counter on the command's item: reply tracking counts replies per batch, one transaction a batch and tick (lib/commands/reply-count.ts); sending the ${Math.ceil(target / 1000)} batches takes ≈ ${Math.round(((Math.ceil(target / 1000) / scaled.commands.gseConcurrency) * LATENCY.gseCallMs) / 1000)} s modelled, so replies come about as fast as the keys take them |`,
    `| Lambda concurrency | heartbeat ${shards}, plus the API's and the automation queue's | |`,
    `| heartbeat memory | ≈ ${Math.round(heapMb)} MB of heap for the ${heldAgents.toLocaleString("en")} agents a warm instance keeps at most (${warmCacheHeapMb.toFixed(1)} MB measured at ${measured.agents.toLocaleString("en")}), of its ${memoryMb} MB | an instance that ran every shard in turn holds partitions up to FLEET_CACHE_MAX_AGENTS (${FLEET_CACHE_MAX_AGENTS.toLocaleString("en")}, lib/heartbeat/fleet-cache.ts), then forgets the least recently read |`,
    `| cost a month | **${usd(cost.total)}** | the model above with the scaled counts and ${shards - 1} queued shards a poll |`,
    "",
    `What breaks first: a whole-fleet command's replies, ${target.toLocaleString("en")} items over its ${AGENT_SHARDS} agent keys (≥ ${Math.ceil(target / AGENT_SHARDS / PARTITION_WCU_PER_S)} s at the keys' limit; on the command's one key,`,
    `as before agent shards, ≥ ${Math.ceil(target / PARTITION_WCU_PER_S / 60)} min), not the command's item, which replies do not write; the heartbeat scales by shards and`,
    `its ${FLEET_PARTITION_KEYS} keys stay far under their limit. A warm heartbeat instance keeps the partitions it polls in memory, at most`,
    `${FLEET_CACHE_MAX_AGENTS.toLocaleString("en")} agents: ≈ ${Math.round(heapMb)} MB at ${target.toLocaleString("en")}, ${heapMb > memoryMb * 0.6 ? "past" : "within"} 60 % of its ${memoryMb} MB.`,
  ];
  return {
    lines,
    json: {
      agents: target,
      shards,
      gse_calls_per_poll: Math.round(scaled.heartbeat.gseCalls),
      gse_calls_per_second: Number(gsePerSecond.toFixed(1)),
      fleet_write_units_per_poll: Math.round(scaled.heartbeat.writeUnits),
      fleet_read_units_per_poll: Math.round(scaled.heartbeat.readUnits),
      usd_per_month: Math.round(cost.total * 100) / 100,
      heartbeat_heap_mb: Math.round(heapMb),
    },
  };
}

export const costBenchmark: Benchmark = {
  name: "cost",
  async run(options = {}): Promise<BenchmarkResult> {
    const agents = options.agents ?? DEFAULT_AGENTS;
    const heartbeat = await measureHeartbeat({ agents, polls: 10, naivePolls: 2 });
    const dispatchAgents = Math.min(DISPATCH_AGENTS, agents);
    const commands = await commandsBenchmark.run({ agents: dispatchAgents });
    const commandFigures = typeof commands === "string" ? {} : commands.json;
    const writeUnitsPerAgent = Number(commandFigures.write_units_per_agent);
    if (!Number.isFinite(writeUnitsPerAgent)) throw new Error("the commands benchmark gave no write_units_per_agent");
    const f = heartbeat.figures;
    const ours = inputsOf(agents, medianPoll(heartbeat.ours), { writeUnitsPerAgent });
    const naive = inputsOf(agents, medianPoll(heartbeat.naive), { writeUnitsPerAgent: NAIVE_DISPATCH_WRITE_UNITS_PER_AGENT });
    const oursCost = monthlyCost(ours);
    const scale = scaleSection(ours, 1_000_000, medianPoll(heartbeat.ours), f.full_read_units, f.warm_cache_heap_mb);
    const naiveCost = monthlyCost(naive);
    const floor = heartbeatWriteFloor(agents, f.transitions_per_poll, f.history_items_per_poll, oursCost.total);
    const report = [
      `What ${agents.toLocaleString("en")} agents cost a month (30 days): a heartbeat poll every minute (${POLLS_PER_MONTH.toLocaleString("en")} polls) with`,
      "1 % of the fleet changing each poll (the heartbeat bench's scenario: a third down for good, a third lossy for one poll, a third",
      "upgrading for one poll, so ≈ 2 % of the agents change class each poll), bk-monitor's state queries and whole-fleet dispatches as stated below.",
      `Counts measured in this run: the heartbeat's steady state (\`measureHeartbeat\`, ${f.polls} polls after a warm-up, medians per poll;`,
      `the naive poll reads and writes every agent with the same concurrency, ${f.naive_polls} polls) and a dispatch to ${dispatchAgents.toLocaleString("en")} agents`,
      `(\`npm run bench commands\`'s figures: ${writeUnitsPerAgent} write units per agent as DynamoDB bills them; the naive dispatch ${NAIVE_DISPATCH_WRITE_UNITS_PER_AGENT}, what it measured before issue 23).`,
      "",
      `Latency model for Lambda's GB-s (Lambda bills the time it waits): GSE ${LATENCY.gseCallMs} ms a call of 1000 ids (bk-nodeman's measure), DynamoDB`,
      `${LATENCY.dynamoCallMs} ms a call, calls overlapping by the code's concurrency (heartbeat: GSE ${ours.heartbeatFunction.gseConcurrency}, DynamoDB ${ours.heartbeatFunction.dynamoConcurrency}; queries: DynamoDB ${ours.queries.dynamoConcurrency}; dispatch: GSE ${ours.commands.gseConcurrency}, DynamoDB ${ours.commands.dynamoConcurrency}), plus our CPU per poll as measured here`,
      `(an upper bound: this process also runs the GSE simulator). Modelled poll: ${Math.round(pollMs(ours))} ms ours, ${Math.round(pollMs(naive))} ms naive.`,
      `Stated load: bk-monitor reads every agent's state ${WORKLOAD.fullRefreshesPerHour}× an hour in requests of ${WORKLOAD.idsPerRequest} ids and one agent about`,
      `${WORKLOAD.singleQueriesPerSecond}× a second, each answered from the fleet table (${READ_UNITS_PER_AGENT_QUERIED} read unit an agent: its item by key, consistent);`,
      `${WORKLOAD.dispatchesPerMonth} whole-fleet dispatches a month without reply tracking. Storage: 600 B a fleet item, 400 B a history item kept 30 days.`,
      `EventBridge's schedule is free; free tiers are left out. Prices: ${PRICES.asOf}.`,
      "",
      ...costTable(oursCost, naiveCost),
      "",
      ...floor.lines,
      "",
      ...scale.lines,
    ].join("\n");
    return {
      report,
      json: {
        agents,
        usd_per_month_100k: per100k(oursCost.total, agents),
        naive_usd_per_month_100k: per100k(naiveCost.total, agents),
        usd_per_month: Math.round(oursCost.total * 100) / 100,
        items: oursCost.items.map((i) => ({ item: i.item, quantity: i.quantity, usd: Math.round(i.usd * 100) / 100 })),
        naive_items: naiveCost.items.map((i) => ({ item: i.item, quantity: i.quantity, usd: Math.round(i.usd * 100) / 100 })),
        heartbeat: f,
        dispatch_write_units_per_agent: writeUnitsPerAgent,
        heartbeat_write_floor: floor.json,
        scale_1m: scale.json,
        total: usd(oursCost.total),
      },
    };
  },
};
