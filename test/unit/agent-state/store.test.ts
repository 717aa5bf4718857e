import { describe, expect, it } from "vitest";
import { parseAgentItem } from "../../../lib/agent-state/store.ts";
import { chunk, drainUnprocessed } from "../../../lib/dynamo/batch.ts";

const retry = (maxAttempts: number) => {
  const delays: number[] = [];
  return { delays, options: { maxAttempts, sleep: async (ms: number) => void delays.push(ms), random: () => 0.999 } };
};

describe("drainUnprocessed", () => {
  it("sends what DynamoDB left unprocessed again, backing off between rounds", async () => {
    const sent: number[][] = [];
    const { delays, options } = retry(5);
    const left = await drainUnprocessed(
      [1, 2, 3],
      async (batch) => {
        sent.push([...batch]);
        return batch.slice(1);
      },
      options,
    );
    expect(left).toEqual([]);
    expect(sent).toEqual([[1, 2, 3], [2, 3], [3]]);
    expect(delays).toHaveLength(2);
    expect(delays[1]).toBeGreaterThan(delays[0] ?? Infinity);
  });

  it("gives up after the last round and returns what is left", async () => {
    const { delays, options } = retry(3);
    let rounds = 0;
    const left = await drainUnprocessed(
      ["a"],
      async (batch) => {
        rounds++;
        return batch;
      },
      options,
    );
    expect(left).toEqual(["a"]);
    expect(rounds).toBe(3);
    expect(delays).toHaveLength(2);
  });

  it("makes no call for nothing", async () => {
    let rounds = 0;
    expect(
      await drainUnprocessed(
        [],
        async () => {
          rounds++;
          return [];
        },
        retry(3).options,
      ),
    ).toEqual([]);
    expect(rounds).toBe(0);
  });
});

describe("agent items", () => {
  it("splits into DynamoDB-sized batches", () => {
    expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunk([], 25)).toEqual([]);
  });

  it("reads an item this module wrote, keeps foreign attributes, and ignores anything else", () => {
    const raw = {
      agent_id: "a",
      known: true,
      source: "list_agent_state",
      status_code: 2,
      alive: true,
      fetched_at: 1,
      changed_at: 1,
      expires_at: 2,
      missed_polls: 1,
    };
    expect(parseAgentItem(raw)).toEqual(raw);
    expect(parseAgentItem({ agent_id: "a", status: "up" })).toBeUndefined();
    expect(parseAgentItem({ ...raw, source: "somewhere" })).toBeUndefined();
  });
});
