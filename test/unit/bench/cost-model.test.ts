import { describe, expect, it } from "vitest";
import { type CostInputs, LATENCY, monthlyCost, POLLS_PER_MONTH, PRICES, pollMs } from "../../../bench/cost-model.ts";

const inputs: CostInputs = {
  agents: 100_000,
  heartbeat: { gseCalls: 100, readCalls: 2, readUnits: 10, writeCalls: 40, writeUnits: 1000, historyItems: 0, cpuMs: 300, alerts: 2, queuedShards: 0 },
  heartbeatFunction: { memoryMb: 1024, gseConcurrency: 5, dynamoConcurrency: 16 },
  queries: {
    requestsPerMonth: 0,
    idsPerRequest: 1000,
    readUnitsPerRequest: 0,
    dynamoCallsPerRequest: 0,
    gseCallsPerRequest: 0,
    gseConcurrency: 5,
    dynamoConcurrency: 32,
    memoryMb: 512,
  },
  commands: {
    dispatchesPerMonth: 0,
    writeUnitsPerAgent: 0,
    gseCallsPerDispatch: 0,
    dynamoCallsPerDispatch: 0,
    queueMessagesPerDispatch: 0,
    gseConcurrency: 5,
    dynamoConcurrency: 16,
    memoryMb: 512,
  },
  storage: { fleetItemBytes: 0, historyItemBytes: 0, historyRetentionDays: 30 },
  logs: { bytesPerPoll: 0, bytesPerRequest: 0 },
};

describe("cost model", () => {
  it("models a poll's duration from GSE waits in waves of its concurrency, DynamoDB waits and CPU", () => {
    // 100 GSE calls 5 at a time = 20 waves of 500 ms; 2 reads and 40 writes 16 at a time = 1 + 3 waves of 10 ms.
    expect(pollMs(inputs)).toBe(20 * LATENCY.gseCallMs + 1 * LATENCY.dynamoCallMs + 3 * LATENCY.dynamoCallMs + 300);
  });

  it("prices the heartbeat's write units per poll over a month of one-minute polls", () => {
    const writes = monthlyCost(inputs).items.find((i) => i.item === "DynamoDB writes, heartbeat");
    expect(writes?.usd).toBeCloseTo(1000 * POLLS_PER_MONTH * PRICES.dynamoWriteUnit, 6);
  });

  it("totals every line item, and a zero workload costs only what a poll does", () => {
    const cost = monthlyCost(inputs);
    expect(cost.total).toBeCloseTo(
      cost.items.reduce((s, i) => s + i.usd, 0),
      9,
    );
    expect(cost.items.find((i) => i.item === "DynamoDB writes, commands")?.usd).toBe(0);
  });
});
