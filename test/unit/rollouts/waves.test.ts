import { describe, expect, it } from "vitest";
import { zeroCounts } from "../../../lib/commands/outcomes.ts";
import type { OutcomeCounts } from "../../../lib/commands/schemas.ts";
import type { FleetAgent } from "../../../lib/fleet/items.ts";
import { nextWaveSize, successRate, unhealthyBy, versionSatisfies, waveCountAtMost, type PreviousWave } from "../../../lib/rollouts/waves.ts";
import type { Strategy } from "../../../lib/rollouts/spec.ts";

const counts = (fields: Partial<OutcomeCounts>): OutcomeCounts => ({ ...zeroCounts(), ...fields });

/** Every wave's size until the targets are used up, each previous wave fully successful unless `rates` says otherwise. */
function sizes(strategy: Strategy | undefined, total: number, failedPerWave: readonly number[] = []): number[] {
  const out: number[] = [];
  let previous: PreviousWave | undefined;
  let left = total;
  while (left > 0) {
    const size = nextWaveSize(strategy, total, left, previous);
    const failed = failedPerWave[out.length] ?? 0;
    out.push(size);
    previous = { size, counts: counts({ REPLIED: size - failed, FAILED: failed }) };
    left -= size;
  }
  return out;
}

describe("wave sizes", () => {
  it("all sends every target in one wave", () => {
    expect(sizes({ kind: "all" }, 37)).toEqual([37]);
    expect(sizes(undefined, 5)).toEqual([5]);
  });

  it("linear waves are wave_size each (a share of the total rounded up), the last takes the rest", () => {
    expect(sizes({ kind: "linear", wave_size: 4 }, 10)).toEqual([4, 4, 2]);
    expect(sizes({ kind: "linear", wave_size: "30%" }, 10)).toEqual([3, 3, 3, 1]);
  });

  it("exponential waves grow by factor, rounded up, and the last takes the rest", () => {
    expect(sizes({ kind: "exponential", start: 1, factor: 2 }, 15)).toEqual([1, 2, 4, 8]);
    expect(sizes({ kind: "exponential", start: 2, factor: 1.5 }, 20)).toEqual([2, 3, 5, 8, 2]);
  });

  it("an exponential wave holds its size when the previous wave's success rate is below min_success_rate", () => {
    // Wave 2 (size 2) has one failure: rate 0.5 < 0.9, so wave 3 stays at 2; then growth resumes.
    expect(sizes({ kind: "exponential", start: 1, factor: 2, min_success_rate: 0.9 }, 15, [0, 1])).toEqual([1, 2, 2, 4, 6]);
    // The default min_success_rate is 1: any failure holds the size.
    expect(sizes({ kind: "exponential", start: 1, factor: 2 }, 7, [1])).toEqual([1, 1, 2, 3]);
  });

  it("counts the waves a strategy makes at most, for the 999-wave limit", () => {
    expect(waveCountAtMost({ kind: "linear", wave_size: 1 }, 1500)).toBe(1500);
    expect(waveCountAtMost({ kind: "exponential", start: 1, factor: 2 }, 15)).toBe(4);
  });

  it("success rate is replied or delivered over settled", () => {
    expect(successRate(counts({ REPLIED: 3, TIMED_OUT: 1 }))).toBe(0.75);
    expect(successRate(counts({ SENT: 4 }))).toBe(1);
    expect(successRate(undefined)).toBe(1);
  });
});

const agent = (fields: Partial<FleetAgent>): FleetAgent => ({
  agent_id: "0:10.0.0.1",
  registered_at: 0,
  sources: ["command"],
  status: "alive",
  misses: 0,
  changed_at: 0,
  status_code: 2,
  status_class: "alive",
  seen_at: 1_000,
  rev: 1,
  ...fields,
});

describe("the health gate's verdict on one agent", () => {
  const gate = { max_unhealthy: 1 };
  it("calls lost, stuck, degraded and gone agents unhealthy, a running one healthy", () => {
    expect(unhealthyBy(agent({ status: "lost", status_class: "degraded" }), 1_000, gate, 2_000)).toBe("lost");
    expect(unhealthyBy(agent({ stuck_at: 500, status_class: "transitional" }), 1_000, gate, 2_000)).toBe("stuck");
    expect(unhealthyBy(agent({ status_code: 3, status_class: "degraded" }), 1_000, gate, 2_000)).toBe("degraded");
    expect(unhealthyBy(agent({ status_code: 7, status_class: "gone" }), 1_000, gate, 2_000)).toBe("gone");
    expect(unhealthyBy(agent({}), 1_000, gate, 2_000)).toBeUndefined();
  });

  it("counts only the classes the gate names", () => {
    expect(unhealthyBy(agent({ status_code: 3, status_class: "degraded" }), 1_000, { max_unhealthy: 1, classes: ["gone"] }, 2_000)).toBeUndefined();
  });

  it("calls an agent silent only when the gate gives silent_seconds and it was not seen for that long", () => {
    const silentGate = { max_unhealthy: 1, silent_seconds: 60 };
    const stale = agent({ status_code: 2, misses: 1, seen_at: 0 });
    expect(unhealthyBy(stale, 0, silentGate, 61_000)).toBe("silent");
    expect(unhealthyBy(stale, 0, silentGate, 59_000)).toBeUndefined();
    expect(unhealthyBy(stale, 0, gate, 600_000)).toBeUndefined();
  });
});

describe("expect_version", () => {
  it("takes loose versions by coercion and refuses what cannot be read", () => {
    expect(versionSatisfies("2.1.0", "2.1.0")).toBe(true);
    expect(versionSatisfies("v2.1", ">=2.1.0 <3")).toBe(true);
    expect(versionSatisfies("2.0.9", ">=2.1.0")).toBe(false);
    expect(versionSatisfies(undefined, "2.1.0")).toBe(false);
    expect(versionSatisfies("unknown", "2.1.0")).toBe(false);
  });
});
