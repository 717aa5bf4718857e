import { describe, expect, it } from "vitest";
import { effectiveOutcome, finalStatus, zeroCounts } from "../../../lib/commands/outcomes.ts";
import { commandHash, planRollout, resolveLimit, retryDelayMs } from "../../../lib/commands/rollout.ts";
import { dispatchCommandSchema } from "../../../lib/commands/schemas.ts";

const settings = { batchSize: 1000, gseConcurrency: 5 };

describe("rollout limits", () => {
  it("reads a percentage of the targets, rounding concurrency up and tolerated errors down", () => {
    expect(resolveLimit("10%", 30, "up")).toBe(3);
    expect(resolveLimit("10%", 31, "up")).toBe(4);
    expect(resolveLimit("5%", 10, "down")).toBe(0);
    expect(resolveLimit("2.5%", 1000, "down")).toBe(25);
    expect(resolveLimit(7, 1000, "down")).toBe(7);
  });

  it("sends everything at GSE's batch size and concurrency when no limit is given", () => {
    expect(planRollout(10_000, {}, settings)).toEqual({ batchSize: 1000, parallel: 5, maxConcurrency: 10_000, maxErrors: null });
  });

  it("keeps at most max_concurrency agents in flight: smaller batches, fewer at once", () => {
    expect(planRollout(10_000, { max_concurrency: "10%" }, settings)).toEqual({ batchSize: 1000, parallel: 1, maxConcurrency: 1000, maxErrors: null });
    expect(planRollout(100, { max_concurrency: 10, max_errors: 5 }, settings)).toEqual({ batchSize: 10, parallel: 1, maxConcurrency: 10, maxErrors: 5 });
    expect(planRollout(100_000, { max_concurrency: 3000 }, settings)).toMatchObject({ batchSize: 1000, parallel: 3 });
  });

  it("refuses limits that are not a count or a percentage, naming the field", () => {
    const base = { message_id: "m", agent_id_list: ["0:10.0.0.1"], content: "" };
    for (const [field, value] of [
      ["max_concurrency", 0],
      ["max_concurrency", "0.5"],
      ["max_errors", "101%"],
      ["max_errors", -1],
      ["max_concurrency", "ten"],
    ] as const) {
      const parsed = dispatchCommandSchema.safeParse({ ...base, [field]: value });
      expect(parsed.success, `${field}=${value}`).toBe(false);
      expect(parsed.error?.issues[0]?.path[0]).toBe(field);
    }
    expect(dispatchCommandSchema.safeParse({ ...base, max_concurrency: "100%", max_errors: "0%" }).success).toBe(true);
  });
});

describe("retry backoff", () => {
  const backoff = { retryBaseMs: 30_000, retryMaxDelayMs: 3_600_000 };
  it("doubles the ceiling per attempt, with full jitter", () => {
    expect(retryDelayMs(1, backoff, () => 0.999)).toBe(29_970);
    expect(retryDelayMs(3, backoff, () => 0.5)).toBe(60_000);
    expect(retryDelayMs(3, backoff, () => 0)).toBe(0);
  });
  it("never waits more than the maximum delay", () => {
    expect(retryDelayMs(20, backoff, () => 0.999_999)).toBeLessThan(3_600_000);
  });
});

describe("command status", () => {
  it("is SUCCEEDED when every agent was delivered or replied", () => {
    expect(finalStatus({ ...zeroCounts(), SENT: 3, REPLIED: 7 })).toBe("SUCCEEDED");
  });
  it("is PARTIAL when some agents failed or timed out, FAILED when all did", () => {
    expect(finalStatus({ ...zeroCounts(), SENT: 3, TIMED_OUT: 1 })).toBe("PARTIAL");
    expect(finalStatus({ ...zeroCounts(), FAILED: 2, TIMED_OUT: 1 })).toBe("FAILED");
  });
  it("counts a PENDING agent as SENT once its batch went out", () => {
    const states = new Map([
      [0, "SENT" as const],
      [1, "SENDING" as const],
    ]);
    expect(effectiveOutcome({ outcome: "PENDING", batch: 0 }, states)).toBe("SENT");
    expect(effectiveOutcome({ outcome: "PENDING", batch: 1 }, states)).toBe("PENDING");
    expect(effectiveOutcome({ outcome: "REPLIED", batch: 1 }, states)).toBe("REPLIED");
  });
  it("counts a FAILED agent with attempts left as RETRYING, one failed for good as FAILED", () => {
    const states = new Map([[0, "SENT" as const]]);
    expect(effectiveOutcome({ outcome: "FAILED", batch: 0, final: false }, states)).toBe("RETRYING");
    expect(effectiveOutcome({ outcome: "FAILED", batch: 0, final: true }, states)).toBe("FAILED");
  });
});

describe("command identity", () => {
  const request = { message_id: "m", agent_id_list: ["a1", "a2"], content: "x" };
  it("is the same for the same targets (duplicates aside), content and limits", () => {
    expect(commandHash({ ...request, agent_id_list: ["a1", "a2", "a1"] })).toBe(commandHash(request));
  });
  it("differs when the content, the targets or a limit differ", () => {
    const base = commandHash(request);
    expect(commandHash({ ...request, content: "y" })).not.toBe(base);
    expect(commandHash({ ...request, agent_id_list: ["a2", "a1"] })).not.toBe(base);
    expect(commandHash({ ...request, max_errors: 1 })).not.toBe(base);
  });
});
