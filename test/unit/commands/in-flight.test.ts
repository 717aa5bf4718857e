import { describe, expect, it } from "vitest";
import { agentInFlight } from "../../../lib/commands/in-flight.ts";
import { finalStatus, zeroCounts } from "../../../lib/commands/outcomes.ts";

describe("agentInFlight: sent and not settled", () => {
  const agent = (outcome: Parameters<typeof agentInFlight>[0]["outcome"], final?: boolean) => ({
    outcome,
    batch: 0,
    ...(final !== undefined ? { final } : {}),
  });

  it("with reply tracking, a delivered agent stays in flight until it replies, fails for good or times out", () => {
    expect(agentInFlight(agent("SENT"), "SENT", true)).toBe(true);
    expect(agentInFlight(agent("PENDING"), "SENT", true)).toBe(true);
    expect(agentInFlight(agent("REPLIED"), "SENT", true)).toBe(false);
    expect(agentInFlight(agent("TIMED_OUT"), "SENT", true)).toBe(false);
    expect(agentInFlight(agent("FAILED", true), "SENT", true)).toBe(false);
  });

  it("without reply tracking, delivery settles an agent", () => {
    expect(agentInFlight(agent("SENT"), "SENT", false)).toBe(false);
    expect(agentInFlight(agent("PENDING"), "SENT", false)).toBe(false);
    expect(agentInFlight(agent("REPLIED"), "SENT", false)).toBe(false);
  });

  it("an agent waiting for a retry is in flight either way; one of a batch in a sender's hands too; one never sent is not", () => {
    for (const tracked of [true, false]) {
      expect(agentInFlight(agent("RETRYING"), "SENT", tracked)).toBe(true);
      expect(agentInFlight(agent("FAILED", false), "SENT", tracked)).toBe(true);
      expect(agentInFlight(agent("PENDING"), "SENDING", tracked)).toBe(true);
      expect(agentInFlight(agent("PENDING"), "PENDING", tracked)).toBe(false);
      expect(agentInFlight(agent("PENDING"), "SKIPPED", tracked)).toBe(false);
      expect(agentInFlight(agent("SKIPPED"), "SKIPPED", tracked)).toBe(false);
    }
  });
});

describe("finalStatus with max_errors", () => {
  it("is SUCCEEDED when the command ran to its end within max_errors, failed agents and all", () => {
    expect(finalStatus({ ...zeroCounts(), REPLIED: 970, FAILED: 30 }, true)).toBe("SUCCEEDED");
    expect(finalStatus({ ...zeroCounts(), TIMED_OUT: 1 }, true)).toBe("SUCCEEDED");
  });

  it("is PARTIAL or FAILED as before without max_errors", () => {
    expect(finalStatus({ ...zeroCounts(), REPLIED: 970, FAILED: 30 })).toBe("PARTIAL");
    expect(finalStatus({ ...zeroCounts(), TIMED_OUT: 3 })).toBe("FAILED");
  });
});
