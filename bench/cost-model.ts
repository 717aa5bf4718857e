/**
 * The monthly cost of running gse-control for a fleet, from counts the benchmarks measure (GSE calls,
 * DynamoDB calls and units per heartbeat poll, write units per dispatched agent, read units per agent
 * state request) and a stated latency model of the real services. Pure: bench/cost.ts measures the
 * counts and prints what this returns; the unit test pins the arithmetic.
 *
 * Lambda is billed for the time it waits, so its GB-s come from how long a call would take against
 * DynamoDB and GSE, not from DynamoDB Local's wall time on a shared 2-core machine (tens of times
 * slower than the service): each call costs LATENCY's figure, calls in flight together overlap by the
 * code's own concurrency, and our CPU time per poll is added as measured (an upper bound: the
 * benchmark's process also runs the GSE simulator).
 */

/**
 * AWS list prices, us-east-1, as this project knows them (no internet here to re-check; verify
 * before quoting): Lambda arm64, DynamoDB on-demand after its 2024-11-01 reduction, SNS and SQS
 * standard, API Gateway HTTP API, CloudWatch Logs ingestion. Free tiers left out.
 */
export const PRICES = {
  asOf: "2025 list prices, us-east-1 (AWS pricing pages; DynamoDB on-demand as reduced on 2024-11-01), not re-checked since",
  lambdaGbSecond: 0.0000133334,
  lambdaRequest: 0.2 / 1e6,
  dynamoWriteUnit: 0.625 / 1e6,
  dynamoReadUnit: 0.125 / 1e6,
  dynamoGbMonth: 0.25,
  snsPublish: 0.5 / 1e6,
  sqsRequest: 0.4 / 1e6,
  httpApiRequest: 1.0 / 1e6,
  logsIngestGb: 0.5,
} as const;

/** How long one call takes against the real services: the model Lambda's GB-s are priced on. */
export const LATENCY = {
  /** bk-nodeman's measure of GSE's list_agent_state: about half a second per 1000 hosts. */
  gseCallMs: 500,
  /** One DynamoDB Query page, BatchGetItem, BatchWriteItem or single-item write: single-digit ms on the service; 10 ms to be safe. */
  dynamoCallMs: 10,
} as const;

/** One poll a minute over a 30-day month. */
export const POLLS_PER_MONTH = 30 * 24 * 60;
const GB = 1e9;

/** One heartbeat poll in steady state, as bench/heartbeat.ts measures it (medians over its polls). */
export interface PollCounts {
  readonly gseCalls: number;
  readonly readCalls: number;
  readonly readUnits: number;
  readonly writeCalls: number;
  readonly writeUnits: number;
  /** Items the poll wrote into agents' history (a part of writeUnits, stored for the retention). */
  readonly historyItems: number;
  /** Our CPU per poll, as measured (an upper bound). */
  readonly cpuMs: number;
  /** Alerts published per poll (one per kind at most). */
  readonly alerts: number;
  /** Shard jobs per poll on the automation queue beyond the first (each a send, a receive and a delete). */
  readonly queuedShards: number;
}

export interface CostInputs {
  readonly agents: number;
  readonly heartbeat: PollCounts;
  /** The heartbeat function's settings: memory, GSE calls in flight, DynamoDB calls in flight. */
  readonly heartbeatFunction: { readonly memoryMb: number; readonly gseConcurrency: number; readonly dynamoConcurrency: number };
  /** bk-monitor's agent state queries: the load we state, and what one request of `idsPerRequest` costs. */
  readonly queries: {
    readonly requestsPerMonth: number;
    readonly idsPerRequest: number;
    readonly readUnitsPerRequest: number;
    readonly dynamoCallsPerRequest: number;
    readonly gseCallsPerRequest: number;
    /** Calls in flight per request: GSE (GSE_CONCURRENCY) and DynamoDB (the fleet-state reader's). */
    readonly gseConcurrency: number;
    readonly dynamoConcurrency: number;
    readonly memoryMb: number;
  };
  /** Commands: whole-fleet dispatches per month and what one agent costs in writes. */
  readonly commands: {
    readonly dispatchesPerMonth: number;
    readonly writeUnitsPerAgent: number;
    readonly gseCallsPerDispatch: number;
    readonly dynamoCallsPerDispatch: number;
    /** Automation queue messages per dispatch (tick jobs). */
    readonly queueMessagesPerDispatch: number;
    /** Calls in flight per dispatch: GSE (GSE_CONCURRENCY) and DynamoDB (the command store's). */
    readonly gseConcurrency: number;
    readonly dynamoConcurrency: number;
    readonly memoryMb: number;
  };
  /** Bytes stored: one fleet item per agent, one history item per transition kept for the retention. */
  readonly storage: { readonly fleetItemBytes: number; readonly historyItemBytes: number; readonly historyRetentionDays: number };
  /** Log bytes written per heartbeat poll and per API request. */
  readonly logs: { readonly bytesPerPoll: number; readonly bytesPerRequest: number };
}

export interface CostItem {
  readonly item: string;
  readonly quantity: string;
  readonly usd: number;
}

export interface Cost {
  readonly items: readonly CostItem[];
  readonly total: number;
}

/** Calls made `concurrency` at a time, each `ms` long. */
const waves = (calls: number, concurrency: number, ms: number): number => Math.ceil(calls / Math.max(1, concurrency)) * ms;
const gbSeconds = (ms: number, memoryMb: number): number => (ms / 1000) * (memoryMb / 1024);
const n = (x: number, digits = 0): string => x.toLocaleString("en", { maximumFractionDigits: digits });

/** Modelled duration of one heartbeat poll (ms): GSE waits, DynamoDB waits, our CPU. */
export function pollMs(inputs: CostInputs): number {
  const { heartbeat: p, heartbeatFunction: f } = inputs;
  return (
    waves(p.gseCalls, f.gseConcurrency, LATENCY.gseCallMs) +
    waves(p.readCalls, f.dynamoConcurrency, LATENCY.dynamoCallMs) +
    waves(p.writeCalls, f.dynamoConcurrency, LATENCY.dynamoCallMs) +
    p.cpuMs
  );
}

/** The month's line items. */
export function monthlyCost(inputs: CostInputs): Cost {
  const { heartbeat: p, queries: q, commands: c, storage: s } = inputs;
  const items: CostItem[] = [];
  const add = (item: string, quantity: string, usd: number): void => {
    items.push({ item, quantity, usd });
  };

  const pollDurationMs = pollMs(inputs);
  const hbGbS = gbSeconds(pollDurationMs, inputs.heartbeatFunction.memoryMb) * POLLS_PER_MONTH;
  add(
    "Lambda, heartbeat",
    `${n(POLLS_PER_MONTH)} polls × ${n(pollDurationMs)} ms modelled × ${inputs.heartbeatFunction.memoryMb} MB = ${n(hbGbS)} GB-s, ${n(POLLS_PER_MONTH * (1 + p.queuedShards))} invocations`,
    hbGbS * PRICES.lambdaGbSecond + POLLS_PER_MONTH * (1 + p.queuedShards) * PRICES.lambdaRequest,
  );
  add(
    "DynamoDB reads, heartbeat",
    `${n(p.readUnits, 1)} RRU a poll × ${n(POLLS_PER_MONTH)} = ${n((p.readUnits * POLLS_PER_MONTH) / 1e6, 1)} M RRU`,
    p.readUnits * POLLS_PER_MONTH * PRICES.dynamoReadUnit,
  );
  add(
    "DynamoDB writes, heartbeat",
    `${n(p.writeUnits, 1)} WRU a poll × ${n(POLLS_PER_MONTH)} = ${n((p.writeUnits * POLLS_PER_MONTH) / 1e6, 1)} M WRU`,
    p.writeUnits * POLLS_PER_MONTH * PRICES.dynamoWriteUnit,
  );
  add("SNS, heartbeat alerts", `${n(p.alerts, 1)} a poll = ${n(p.alerts * POLLS_PER_MONTH)} publishes`, p.alerts * POLLS_PER_MONTH * PRICES.snsPublish);
  add(
    "SQS, heartbeat shard jobs",
    `${n(p.queuedShards, 1)} queued shards a poll × 3 requests = ${n(p.queuedShards * 3 * POLLS_PER_MONTH)} requests`,
    p.queuedShards * 3 * POLLS_PER_MONTH * PRICES.sqsRequest,
  );

  const queryMs =
    waves(q.gseCallsPerRequest, q.gseConcurrency, LATENCY.gseCallMs) + waves(q.dynamoCallsPerRequest, q.dynamoConcurrency, LATENCY.dynamoCallMs) + 20;
  const queryGbS = gbSeconds(queryMs, q.memoryMb) * q.requestsPerMonth;
  add(
    "API Gateway (HTTP API), bk-monitor's agent state queries",
    `${n(q.requestsPerMonth)} requests of ${n(q.idsPerRequest)} ids`,
    q.requestsPerMonth * PRICES.httpApiRequest,
  );
  add(
    "Lambda, agent state queries",
    `${n(q.requestsPerMonth)} × ${n(queryMs)} ms modelled × ${q.memoryMb} MB = ${n(queryGbS)} GB-s`,
    queryGbS * PRICES.lambdaGbSecond + q.requestsPerMonth * PRICES.lambdaRequest,
  );
  add(
    "DynamoDB reads, agent state queries",
    `${n(q.readUnitsPerRequest, 1)} RRU a request = ${n((q.readUnitsPerRequest * q.requestsPerMonth) / 1e6, 1)} M RRU`,
    q.readUnitsPerRequest * q.requestsPerMonth * PRICES.dynamoReadUnit,
  );

  const dispatchAgents = c.dispatchesPerMonth * inputs.agents;
  const dispatchMs =
    waves(c.gseCallsPerDispatch, c.gseConcurrency, LATENCY.gseCallMs) + waves(c.dynamoCallsPerDispatch, c.dynamoConcurrency, LATENCY.dynamoCallMs);
  const dispatchGbS = gbSeconds(dispatchMs, c.memoryMb) * c.dispatchesPerMonth;
  add(
    "DynamoDB writes, commands",
    `${c.dispatchesPerMonth} whole-fleet dispatches × ${n(inputs.agents)} agents × ${n(c.writeUnitsPerAgent, 3)} WRU`,
    dispatchAgents * c.writeUnitsPerAgent * PRICES.dynamoWriteUnit,
  );
  add(
    "Lambda + SQS + API Gateway, commands",
    `${n(dispatchGbS, 1)} GB-s, ${n(c.dispatchesPerMonth * c.queueMessagesPerDispatch)} queue messages`,
    dispatchGbS * PRICES.lambdaGbSecond +
      c.dispatchesPerMonth * (c.queueMessagesPerDispatch * 3 * PRICES.sqsRequest + PRICES.httpApiRequest + PRICES.lambdaRequest),
  );

  const historyItems = p.historyItems * POLLS_PER_MONTH * (s.historyRetentionDays / 30);
  const storedGb = (inputs.agents * s.fleetItemBytes + historyItems * s.historyItemBytes) / GB;
  add(
    "DynamoDB storage",
    `${n(inputs.agents)} fleet items × ${s.fleetItemBytes} B + ${n(historyItems)} history items × ${s.historyItemBytes} B (${s.historyRetentionDays} days) = ${n(storedGb, 2)} GB`,
    storedGb * PRICES.dynamoGbMonth,
  );
  const logGb = (inputs.logs.bytesPerPoll * POLLS_PER_MONTH + inputs.logs.bytesPerRequest * (q.requestsPerMonth + c.dispatchesPerMonth)) / GB;
  add("CloudWatch Logs ingestion", `${n(logGb, 2)} GB`, logGb * PRICES.logsIngestGb);

  return { items, total: items.reduce((sum, i) => sum + i.usd, 0) };
}

export const usd = (x: number): string => `$${x < 0.01 && x > 0 ? x.toFixed(4) : x.toFixed(2)}`;

/** The line items as a markdown table, ours beside the naive. */
export function costTable(ours: Cost, naive: Cost): string[] {
  const naiveOf = new Map(naive.items.map((i) => [i.item, i]));
  return [
    "| line item | ours: quantity | ours | naive: quantity | naive |",
    "|---|---|---|---|---|",
    ...ours.items.map((i) => {
      const other = naiveOf.get(i.item);
      return `| ${i.item} | ${i.quantity} | ${usd(i.usd)} | ${other?.quantity ?? "–"} | ${other ? usd(other.usd) : "–"} |`;
    }),
    `| **total per month** | | **${usd(ours.total)}** | | **${usd(naive.total)}** |`,
  ];
}
