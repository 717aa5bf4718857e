import { describe, expect, it } from "vitest";
import { batchSettles, openBatch, sentSince } from "../../../lib/commands/reply-count.ts";
import type { BatchItem } from "../../../lib/commands/store/items.ts";

describe("a batch's count of replies", () => {
  it("counts only agents whose item a reply or timeout created (by_batch); a failing reply and a timeout are errors, the timeout also counted apart", () => {
    const items = new Map([
      ["a", { outcome: "REPLIED" as const, by_batch: true }],
      ["b", { outcome: "FAILED" as const, by_batch: true }],
      ["c", { outcome: "TIMED_OUT" as const, by_batch: true }],
      // A delivery failure's item (counted at the batch's completion) and a retried agent's reply (counted in its own transaction).
      ["d", { outcome: "FAILED" as const }],
      ["e", { outcome: "REPLIED" as const }],
    ]);
    expect(batchSettles(["a", "b", "c", "d", "e", "f"], items)).toEqual({ settled: 3, errors: 2, timeouts: 1 });
  });

  it("reads a SENT batch until every agent is settled or failed at delivery, and never a batch not sent", () => {
    expect(openBatch({ state: "SENT", size: 10, failed: 2, settled: 7 })).toBe(true);
    expect(openBatch({ state: "SENT", size: 10, failed: 2, settled: 8 })).toBe(false);
    expect(openBatch({ state: "SENT", size: 10 })).toBe(true);
    expect(openBatch({ state: "SENDING", size: 10 })).toBe(false);
    expect(openBatch({ state: "SKIPPED", size: 10 })).toBe(false);
  });

  it("leaves to a tick's settle only the batches its count did not see SENT: sent since, by its claims or a sender elsewhere", () => {
    const batch = (index: number, state: BatchItem["state"]): BatchItem => ({ pk: "cmd#m", sk: `batch#h#${index}`, index, size: 10, state, expires_at: 0 });
    const counted = { waiting: 3, expired: 0, counted: 1, batches: [batch(0, "SENT"), batch(1, "SENDING"), batch(2, "PENDING"), batch(3, "SENT")] };
    const now = [batch(0, "SENT"), batch(1, "SENT"), batch(2, "SENT"), batch(3, "SENT"), batch(4, "SENT"), batch(5, "SENDING")];
    expect(sentSince(now, counted).map((b) => b.index)).toEqual([1, 2, 4]);
  });
});
