import { describe, expect, it } from "vitest";
import { batchCounts } from "../../../lib/commands/views.ts";
import type { BatchItem } from "../../../lib/commands/store/items.ts";
import { commandItem } from "../../helpers/events.ts";

const batch = (index: number, fields: Partial<BatchItem>): BatchItem => ({
  pk: "cmd#m",
  sk: `batch#h#${index}`,
  index,
  size: 10,
  state: "SENT",
  expires_at: 0,
  ...fields,
});

describe("a large command's counts from its batches", () => {
  it("splits a counted batch's agents into REPLIED, FAILED (delivery and failing replies), TIMED_OUT and SENT", async () => {
    const batches = [batch(0, { failed: 1, settled: 7, reply_errors: 3, reply_timeouts: 2 }), batch(1, { state: "PENDING" })];
    const counts = await batchCounts({ batches: async () => batches }, commandItem({ status: "RUNNING" }));
    expect(counts).toMatchObject({ REPLIED: 4, FAILED: 2, TIMED_OUT: 2, SENT: 2, PENDING: 10, RETRYING: 0, SKIPPED: 0 });
  });

  it("shows the reply errors of a batch counted before timeouts were kept apart as FAILED, and a batch never counted as SENT", async () => {
    const batches = [batch(0, { settled: 5, reply_errors: 2 }), batch(1, {})];
    const counts = await batchCounts({ batches: async () => batches }, commandItem({ status: "RUNNING" }));
    expect(counts).toMatchObject({ REPLIED: 3, FAILED: 2, TIMED_OUT: 0, SENT: 15 });
  });
});
