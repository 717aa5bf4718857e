/**
 * `npm run bench cost [-- --agents N] [--json]`: what gse-control costs a month for a fleet (default
 * 100,000 agents) with a one-minute heartbeat and 1 % of the agents changing class every poll, priced
 * line by line (bench/cost-model.ts) from counts measured here, now: the heartbeat's steady state
 * (bench/heartbeat.ts measureHeartbeat, 10 polls, medians) and the write units of a dispatch
 * (bench/commands.ts at 10,000 agents; per agent, they do not depend on the fleet's size). Beside
 * it, the naive system: a poll that reads and writes the whole fleet every minute, with the same
 * concurrency, and a dispatch that writes every agent's item (issue 23's starting point).
 */
import { FUNCTIONS } from "../lib/wiring.ts";
import { commandsBenchmark } from "./commands.ts";
import { type CostInputs, costTable, LATENCY, monthlyCost, POLLS_PER_MONTH, PRICES, pollMs, usd } from "./cost-model.ts";
import { measureHeartbeat, medianPoll } from "./heartbeat.ts";
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
    heartbeatFunction: { memoryMb: FUNCTIONS.heartbeat.memoryMb, gseConcurrency: 5, dynamoConcurrency: 16 },
    queries: {
      requestsPerMonth,
      idsPerRequest: Math.round(idsPerMonth / requestsPerMonth),
      readUnitsPerRequest: (idsPerMonth * READ_UNITS_PER_AGENT_QUERIED) / requestsPerMonth,
      dynamoCallsPerRequest: Math.ceil(idsPerMonth / requestsPerMonth / 100) + 1,
      gseCallsPerRequest: 0,
      memoryMb: FUNCTIONS.list_agent_state.memoryMb,
    },
    commands: {
      dispatchesPerMonth: WORKLOAD.dispatchesPerMonth,
      writeUnitsPerAgent: dispatch.writeUnitsPerAgent,
      gseCallsPerDispatch: Math.ceil(agents / 1000),
      dynamoCallsPerDispatch: Math.ceil(agents / 1000) * 4,
      queueMessagesPerDispatch: 1,
      memoryMb: FUNCTIONS.automation.memoryMb,
    },
    storage: { fleetItemBytes: 600, historyItemBytes: 400, historyRetentionDays: 30 },
    logs: { bytesPerPoll: 4000, bytesPerRequest: 600 },
  };
}

export const costBenchmark: Benchmark = {
  name: "cost",
  async run(options = {}): Promise<BenchmarkResult> {
    const agents = options.agents ?? DEFAULT_AGENTS;
    const heartbeat = await measureHeartbeat({ agents, polls: 10, naivePolls: 2 });
    const commands = await commandsBenchmark.run({ agents: DISPATCH_AGENTS });
    const commandFigures = typeof commands === "string" ? {} : commands.json;
    const writeUnitsPerAgent = Number(commandFigures.write_units_per_agent);
    if (!Number.isFinite(writeUnitsPerAgent)) throw new Error("the commands benchmark gave no write_units_per_agent");
    const f = heartbeat.figures;
    const ours = inputsOf(agents, medianPoll(heartbeat.ours), { writeUnitsPerAgent });
    const naive = inputsOf(agents, medianPoll(heartbeat.naive), { writeUnitsPerAgent: NAIVE_DISPATCH_WRITE_UNITS_PER_AGENT });
    const oursCost = monthlyCost(ours);
    const naiveCost = monthlyCost(naive);
    const report = [
      `What ${agents.toLocaleString("en")} agents cost a month (30 days): a heartbeat poll every minute (${POLLS_PER_MONTH.toLocaleString("en")} polls) with`,
      "1 % of the fleet changing class every poll, bk-monitor's state queries and whole-fleet dispatches as stated below.",
      `Counts measured in this run: the heartbeat's steady state (\`measureHeartbeat\`, ${f.polls} polls after a warm-up, medians per poll;`,
      `the naive poll reads and writes every agent with the same concurrency, ${f.naive_polls} polls) and a dispatch to ${DISPATCH_AGENTS.toLocaleString("en")} agents`,
      `(\`npm run bench commands\`'s figures: ${writeUnitsPerAgent} write units per agent as DynamoDB bills them; the naive dispatch ${NAIVE_DISPATCH_WRITE_UNITS_PER_AGENT}, what it measured before issue 23).`,
      "",
      `Latency model for Lambda's GB-s (Lambda bills the time it waits): GSE ${LATENCY.gseCallMs} ms a call of 1000 ids (bk-nodeman's measure), DynamoDB`,
      `${LATENCY.dynamoCallMs} ms a call, calls overlapping by the code's concurrency (GSE 5, DynamoDB 16), plus our CPU per poll as measured here`,
      `(an upper bound: this process also runs the GSE simulator). Modelled poll: ${Math.round(pollMs(ours))} ms ours, ${Math.round(pollMs(naive))} ms naive.`,
      `Stated load: bk-monitor reads every agent's state ${WORKLOAD.fullRefreshesPerHour}× an hour in requests of ${WORKLOAD.idsPerRequest} ids and one agent about`,
      `${WORKLOAD.singleQueriesPerSecond}× a second, each answered from the fleet table (${READ_UNITS_PER_AGENT_QUERIED} read unit an agent: its item by key, consistent);`,
      `${WORKLOAD.dispatchesPerMonth} whole-fleet dispatches a month without reply tracking. Storage: 600 B a fleet item, 400 B a history item kept 30 days.`,
      "EventBridge's schedule is free; free tiers are left out. Prices: " + PRICES.asOf + ".",
      "",
      ...costTable(oursCost, naiveCost),
    ].join("\n");
    return {
      report,
      json: {
        agents,
        usd_per_month_100k: Math.round(((oursCost.total * 100_000) / agents) * 100) / 100,
        naive_usd_per_month_100k: Math.round(((naiveCost.total * 100_000) / agents) * 100) / 100,
        usd_per_month: Math.round(oursCost.total * 100) / 100,
        items: oursCost.items.map((i) => ({ item: i.item, quantity: i.quantity, usd: Math.round(i.usd * 100) / 100 })),
        naive_items: naiveCost.items.map((i) => ({ item: i.item, quantity: i.quantity, usd: Math.round(i.usd * 100) / 100 })),
        heartbeat: f,
        dispatch_write_units_per_agent: writeUnitsPerAgent,
        total: usd(oursCost.total),
      },
    };
  },
};
