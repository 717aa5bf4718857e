import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { AgentFacts } from "../../../lib/agent-state.ts";
import { planShards, shardPartitions } from "../../../lib/heartbeat/poll.ts";
import { isOutdated, lastSeen, observe, type Observation, type PollContext } from "../../../lib/heartbeat/rules.ts";
import { FLEET_PARTITIONS, type FleetAgent } from "../../../lib/store/fleet.ts";

const K = 3;
const settings = { lostAfterPolls: K, evictAfterSeconds: 86_400 };
const MINUTE = 60_000;

const agent = (fields: Partial<FleetAgent> = {}): FleetAgent => ({
  agent_id: "0:10.1.0.1",
  registered_at: 0,
  sources: ["api"],
  status: "alive",
  misses: 0,
  first_seen_at: 0,
  seen_at: 0,
  changed_at: 0,
  version: "2.1.5",
  bk_cloud_id: 0,
  run_mode: 1,
  status_code: 2,
  rev: 1,
  ...fields,
});

const seen = (statusCode: number, version = "2.1.5"): Observation => {
  const facts: AgentFacts = { known: true, source: "list_agent_state", bk_cloud_id: 0, version, run_mode: 1, status_code: statusCode, alive: statusCode === 2 };
  return { facts, record: { bk_agent_id: "0:10.1.0.1", bk_cloud_id: 0, version, run_mode: 1, status_code: statusCode } };
};
const omitted: Observation = { facts: { known: false, source: "list_agent_state", alive: false } };
const ctx = (n: number, partitionPolledAt?: number): PollContext => ({ pollId: `poll-${n}`, at: n * MINUTE, partitionPolledAt });

/** Applies observations poll after poll, as the poller would, collecting every transition. */
function run(start: FleetAgent, observations: readonly Observation[]): { agent: FleetAgent; kinds: string[] } {
  let current = start;
  const kinds: string[] = [];
  observations.forEach((observation, i) => {
    const outcome = observe(current, observation, ctx(i + 1), settings);
    kinds.push(...outcome.transitions.map((t) => t.kind));
    if (outcome.update) {
      const { expires_at, ...fields } = outcome.update;
      current = { ...current, ...fields, rev: current.rev + 1 };
      if (expires_at === null) delete current.expires_at;
      else current.expires_at = expires_at;
    }
  });
  return { agent: current, kinds };
}

describe("heartbeat rules", () => {
  it("counts an alive agent lost only after K polls in a row seen down", () => {
    const twice = run(agent(), [seen(3), seen(3)]);
    expect(twice.kinds).toEqual([]);
    expect(twice.agent).toMatchObject({ status: "alive", misses: 2 });
    const thrice = run(agent(), [seen(3), seen(3), seen(3)]);
    expect(thrice.kinds).toEqual(["lost"]);
    expect(thrice.agent).toMatchObject({ status: "lost", misses: 3 });
  });

  it("counts one miss per poll, however often the same poll sees the agent", () => {
    const first = observe(agent(), seen(3), ctx(1), settings);
    const after = { ...agent(), ...first.update, expires_at: 1, rev: 2 } as FleetAgent;
    expect(observe(after, seen(3), ctx(1), settings)).toEqual({ transitions: [] });
  });

  it("never alerts on an agent that flaps every poll", () => {
    const flapping = Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? seen(3) : seen(2)));
    expect(run(agent(), flapping).kinds).toEqual([]);
  });

  it("emits lost only after K consecutive downs, for any sequence of observations", () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { maxLength: 60 }), (ups) => {
        const { kinds } = run(agent(), ups.map((up) => (up ? seen(2) : seen(3))));
        let downRun = 0;
        let expectedLost = 0;
        let lost = false;
        for (const up of ups) {
          downRun = up ? 0 : downRun + 1;
          if (!lost && downRun === K) {
            expectedLost++;
            lost = true;
          }
          if (up) lost = false;
        }
        expect(kinds.filter((k) => k === "lost").length).toBe(expectedLost);
      }),
    );
  });

  it("reports an id GSE omits, or answers with status -2, as unknown and never as lost", () => {
    expect(run(agent(), [omitted, omitted, omitted, omitted])).toMatchObject({ kinds: ["unknown"], agent: { status: "unknown" } });
    expect(run(agent(), [seen(-2), seen(-2), seen(-2)])).toMatchObject({ kinds: ["unknown"], agent: { status: "unknown" } });
  });

  it("recovers a lost agent the first poll it is alive again", () => {
    expect(run(agent({ status: "lost", misses: 3, expires_at: 99 }), [seen(2)])).toMatchObject({ kinds: ["recovered"], agent: { status: "alive", misses: 0 } });
  });

  it("reports a newly registered agent as newly seen, down ones as lost without a lost alert", () => {
    const pending = agent({ status: "pending", first_seen_at: undefined, seen_at: undefined, version: undefined, status_code: undefined });
    expect(run(pending, [seen(2)])).toMatchObject({ kinds: ["newly_seen"], agent: { status: "alive" } });
    expect(run(pending, [seen(5), seen(5), seen(5), seen(5)])).toMatchObject({ kinds: ["newly_seen"], agent: { status: "lost" } });
  });

  it("reports a version change, alive or not", () => {
    const outcome = observe(agent(), seen(2, "2.2.0"), ctx(1), settings);
    expect(outcome.transitions).toEqual([{ kind: "version_changed", from: "alive", to: "alive", previousVersion: "2.1.5", version: "2.2.0" }]);
  });

  it("writes nothing for an alive agent that is still alive and unchanged", () => {
    expect(observe(agent(), seen(2), ctx(5), settings)).toEqual({ transitions: [] });
  });

  it("resets a suspect's misses without a transition when it answers again", () => {
    const outcome = observe(agent({ misses: 2, miss_poll: "poll-2", expires_at: 5 }), seen(2), ctx(3), settings);
    expect(outcome.transitions).toEqual([]);
    expect(outcome.update).toMatchObject({ status: "alive", misses: 0, seen_at: 3 * MINUTE, expires_at: null });
  });

  it("derives an alive agent's last_seen from its partition's last poll, and fixes it at the first miss", () => {
    const alive = agent({ seen_at: 1 * MINUTE });
    expect(lastSeen(alive, 9 * MINUTE)).toBe(9 * MINUTE);
    const outcome = observe(alive, seen(3), ctx(10, 9 * MINUTE), settings);
    expect(outcome.update).toMatchObject({ seen_at: 9 * MINUTE, expires_at: Math.floor((9 * MINUTE) / 1000) + 86_400 });
    expect(lastSeen({ status: "alive", misses: 1, seen_at: 9 * MINUTE }, 10 * MINUTE)).toBe(9 * MINUTE);
  });

  it("flags versions below the minimum as outdated, loosely written ones too", () => {
    expect(isOutdated("2.0.9", "2.1.0")).toBe(true);
    expect(isOutdated("2.1.5", "2.1.0")).toBe(false);
    expect(isOutdated("v1.7", "2.1.0")).toBe(true);
    expect(isOutdated("nonsense", "2.1.0")).toBe(false);
    expect(isOutdated("2.0.9", undefined)).toBe(false);
  });
});

describe("heartbeat shard plan", () => {
  it("runs one shard without history, and enough shards for the last poll's cost to fit half the budget", () => {
    expect(planShards(undefined, { budgetMs: 40_000 })).toBe(1);
    expect(planShards({ fleet_size: 10_000, ms_per_agent: 0.5 }, { budgetMs: 40_000 })).toBe(1);
    expect(planShards({ fleet_size: 100_000, ms_per_agent: 1 }, { budgetMs: 40_000 })).toBe(5);
    expect(planShards({ fleet_size: 10_000_000, ms_per_agent: 1 }, { budgetMs: 40_000 })).toBe(FLEET_PARTITIONS);
  });

  it("gives every partition to exactly one shard", () => {
    for (const n of [1, 3, 7, 64]) {
      const all = Array.from({ length: n }, (_, i) => shardPartitions(i, n)).flat().sort((a, b) => a - b);
      expect(all).toEqual(Array.from({ length: FLEET_PARTITIONS }, (_, p) => p));
    }
  });
});
