import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { AgentFacts } from "../../../lib/agent-state/store.ts";
import { planShards, shardPartitions } from "../../../lib/heartbeat/poll.ts";
import { applyUpdate, classify, observe, type Observation, type PollContext, type Transition } from "../../../lib/heartbeat/rules.ts";
import { isOutdated, lastSeen, missesOf } from "../../../lib/fleet/view-rules.ts";
import { FLEET_PARTITIONS, type FleetAgent } from "../../../lib/fleet/store.ts";

const K = 3;
const MINUTE = 60_000;
const GRACE_MINUTES = 15;
const settings = { lostAfterPolls: K, evictAfterSeconds: 86_400, transitionalGraceMs: GRACE_MINUTES * MINUTE };

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
/** What the legacy get_agent_status says: alive 0/1, no status_code. */
const legacy = (alive: boolean): Observation => ({
  facts: { known: true, source: "get_agent_status", bk_cloud_id: 0, alive },
  record: { ip: "10.1.0.1", bk_cloud_id: 0, bk_agent_alive: alive ? 1 : 0 },
});
const pending = (): FleetAgent =>
  agent({ status: "pending", first_seen_at: undefined, seen_at: undefined, version: undefined, status_code: undefined, expires_at: 999 });
/** Poll n; the n - 1 polls before it answered for the agent's whole partition. */
const ctx = (n: number, partitionPolledAt?: number): PollContext => ({ pollId: `poll-${n}`, at: n * MINUTE, partitionPolledAt, partitionPolls: n - 1 });

interface Run {
  /** The item as stored after the last poll. */
  readonly agent: FleetAgent;
  readonly kinds: string[];
  readonly transitions: Transition[];
  /** Its misses as the fleet view derives them after the last poll (stored count + complete polls since). */
  readonly misses: number;
  /** Polls that wrote the item. */
  readonly writes: number;
}

/** Applies observations poll after poll (one a minute), as the poller would, collecting every transition. */
function run(start: FleetAgent, observations: readonly Observation[]): Run {
  let current = start;
  let writes = 0;
  const transitions: Transition[] = [];
  observations.forEach((observation, i) => {
    const outcome = observe(current, observation, ctx(i + 1), settings);
    transitions.push(...outcome.transitions);
    if (outcome.update) {
      current = applyUpdate(current, outcome.update, (i + 1) * MINUTE);
      writes++;
    }
  });
  return { agent: current, kinds: transitions.map((t) => t.kind), transitions, misses: missesOf(current, observations.length), writes };
}

const times = (n: number, observation: Observation): Observation[] => Array.from({ length: n }, () => observation);

describe("heartbeat rules", () => {
  it("counts an alive agent lost only after K polls in a row seen down", () => {
    const twice = run(agent(), [seen(3), seen(3)]);
    expect(twice.kinds).toEqual([]);
    // (Asserted the stored misses: 2 before misses were counted by the partition's polls; the item holds 1 since.)
    expect(twice.agent).toMatchObject({ status: "alive" });
    expect(twice.misses).toBe(2);
    const thrice = run(agent(), [seen(3), seen(3), seen(3)]);
    expect(thrice.kinds).toEqual(["lost"]);
    expect(thrice.agent).toMatchObject({ status: "lost", misses: 3 });
  });

  it("writes a down agent once when it turns suspect and once when it is lost, nothing for the misses between", () => {
    const k5 = { ...settings, lostAfterPolls: 5 };
    let current = agent();
    const written: number[] = [];
    for (let n = 1; n <= 5; n++) {
      const outcome = observe(current, seen(3), ctx(n), k5);
      if (outcome.update) {
        current = applyUpdate(current, outcome.update, n * MINUTE);
        written.push(n);
      } else expect(outcome.deferred).toMatchObject({ misses: n });
      expect(missesOf(current, n)).toBe(n);
    }
    expect(written).toEqual([1, 5]);
    expect(current).toMatchObject({ status: "lost", misses: 5 });
  });

  it("counts no miss for a poll that did not answer for the whole partition (its count did not move)", () => {
    const first = observe(agent(), seen(3), ctx(1), settings);
    const suspect = applyUpdate(agent(), first.update!, MINUTE);
    // Poll 2 answered for the agent but not for all its partition: the count stays at 1, so poll 3 sees the miss of poll 2 as not counted.
    const second = observe(suspect, seen(3), ctx(2), settings);
    expect(second.update).toBeUndefined();
    const third = observe(suspect, seen(3), { ...ctx(3), partitionPolls: 1 }, settings);
    expect(third.update).toBeUndefined();
    expect(third.deferred).toMatchObject({ misses: 2 });
    // Its deferred write (the shard writes it when the partition's poll is incomplete) keeps the count.
    const kept = applyUpdate(suspect, second.deferred!, 2 * MINUTE);
    expect(observe(kept, seen(3), { ...ctx(3), partitionPolls: 1 }, settings).transitions.map((t) => t.kind)).toEqual(["lost"]);
  });

  it("writes every miss where the partition's count of polls is not known", () => {
    let current = agent();
    const kinds: string[] = [];
    for (let n = 1; n <= K; n++) {
      const outcome = observe(current, seen(3), { ...ctx(n), partitionPolls: undefined }, settings);
      expect(outcome.update).toBeDefined();
      kinds.push(...outcome.transitions.map((t) => t.kind));
      current = applyUpdate(current, outcome.update!, n * MINUTE);
    }
    expect(kinds).toEqual(["lost"]);
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
        const { kinds } = run(
          agent(),
          ups.map((up) => (up ? seen(2) : seen(3))),
        );
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
    expect(run(pending(), [seen(2)])).toMatchObject({ kinds: ["newly_seen"], agent: { status: "alive" } });
    // Was seen(5) before status classes: 5 (upgrading) is transitional now, so a down code stands in for it.
    expect(run(pending(), [seen(3), seen(3), seen(3), seen(3)])).toMatchObject({ kinds: ["newly_seen"], agent: { status: "lost" } });
    expect(run(pending(), [seen(7)])).toMatchObject({ kinds: ["newly_seen"], agent: { status: "lost", status_class: "gone" } });
  });

  it("reports a version change, alive or not", () => {
    const outcome = observe(agent(), seen(2, "2.2.0"), ctx(1), settings);
    expect(outcome.transitions).toEqual([
      {
        kind: "version_changed",
        from: "alive",
        to: "alive",
        previousVersion: "2.1.5",
        version: "2.2.0",
        statusClass: "alive",
        statusCode: 2,
        statusName: "running",
      },
    ]);
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

describe("heartbeat rules by status class", () => {
  it.each([
    [-1, "query_failed"],
    [1, "starting"],
    [5, "upgrading"],
    [6, "stopping"],
  ])("never makes an alive agent lost while GSE answers %i (%s), however many polls", (code) => {
    const { kinds, agent: after } = run(agent(), times(2 * K + 1, seen(code)));
    expect(kinds).not.toContain("lost");
    expect(after).toMatchObject({ status: "alive", misses: 0, status_code: code });
  });

  it("reports an agent upgrading past the grace as stuck once, naming the state, and not again on the next polls", () => {
    // Poll 1 is the first to see it upgrading; the grace runs out at poll 1 + 15.
    const before = run(agent(), times(GRACE_MINUTES, seen(5)));
    expect(before.kinds).toEqual([]);
    const { transitions, agent: after } = run(agent(), times(GRACE_MINUTES + 1 + 10, seen(5)));
    expect(transitions).toEqual([{ kind: "stuck", from: "alive", to: "alive", statusClass: "transitional", statusCode: 5, statusName: "upgrading" }]);
    expect(after).toMatchObject({ status: "alive", transitional_since: 1 * MINUTE, stuck_at: (GRACE_MINUTES + 1) * MINUTE });
    // The same stay, the next poll: nothing more to say.
    expect(observe(after, seen(5), ctx(GRACE_MINUTES + 12), settings)).toEqual({ transitions: [] });
  });

  it("times a transitional stay from its first poll, across codes and unknown answers, and starts over after it ends", () => {
    const across = run(agent(), [...times(8, seen(1)), seen(-1), omitted, ...times(8, seen(5))]);
    // Omitted once: unknown (and an unknown agent stays unknown while transitional); the stay's clock runs on.
    expect(across.kinds).toEqual(["unknown", "stuck"]);
    expect(across.transitions.find((t) => t.kind === "stuck")).toMatchObject({ statusCode: 5, statusName: "upgrading" });
    const restarted = run(agent(), [...times(10, seen(6)), seen(2), ...times(10, seen(6))]);
    expect(restarted.kinds).toEqual([]);
  });

  it("counts an agent lost when it stays degraded K polls after being alive", () => {
    expect(run(agent(), times(K, seen(3)))).toMatchObject({ kinds: ["lost"], agent: { status: "lost", status_class: "degraded" } });
    expect(run(agent(), times(K, seen(4))).kinds).toEqual(["lost"]);
    expect(run(agent(), times(K, seen(7)))).toMatchObject({ kinds: ["lost"], agent: { status: "lost", status_class: "gone" } });
  });

  it("counts the misses of an agent that went transitional from alive and then down, as usual", () => {
    const { kinds, agent: after } = run(agent(), [...times(4, seen(5)), ...times(K, seen(3))]);
    expect(kinds).toEqual(["lost"]);
    expect(after).toMatchObject({ status: "lost", misses: K, status_class: "degraded" });
    expect(after.transitional_since).toBeUndefined();
  });

  it("lets a transitional poll end a run of misses, so it never completes a lost", () => {
    expect(run(agent(), [seen(3), seen(3), seen(5), seen(3), seen(3)]).kinds).toEqual([]);
  });

  it("reports an id GSE omits or answers -2 as unknown, and a -1 (its query failed) as nothing at all", () => {
    expect(run(agent(), times(4, omitted))).toMatchObject({ kinds: ["unknown"], agent: { status: "unknown", status_class: "unknown" } });
    expect(run(agent(), times(4, seen(-2)))).toMatchObject({ kinds: ["unknown"], agent: { status: "unknown", status_code: -2 } });
    const failed = run(agent(), times(4, seen(-1)));
    expect(failed).toMatchObject({ kinds: [], agent: { status: "alive", misses: 0, status_code: -1, status_class: "unknown" } });
    // What GSE said is recorded once; the next -1 writes nothing.
    expect(observe(failed.agent, seen(-1), ctx(5), settings)).toEqual({ transitions: [] });
    // An omitted id keeps no old code beside its class.
    expect(run(agent(), [omitted]).agent.status_code).toBeUndefined();
  });

  it("keeps a lost agent lost, and a suspect's misses, through a -1", () => {
    expect(run(agent({ status: "lost", misses: K, expires_at: 99 }), [seen(-1), seen(-1)])).toMatchObject({ kinds: [], agent: { status: "lost", misses: K } });
    expect(run(agent(), [seen(3), seen(-1), seen(3), seen(3)]).kinds).toEqual(["lost"]);
  });

  it("clears the transitional time of an agent that comes back alive, stuck or not", () => {
    const upgraded = run(agent(), [...times(3, seen(5)), seen(2)]);
    expect(upgraded.kinds).toEqual([]);
    expect(upgraded.agent).toMatchObject({ status: "alive", status_class: "alive", status_code: 2 });
    expect(upgraded.agent.transitional_since).toBeUndefined();
    const unstuck = run(agent(), [...times(GRACE_MINUTES + 2, seen(5)), seen(2)]);
    expect(unstuck.kinds).toEqual(["stuck"]);
    expect(unstuck.agent.transitional_since).toBeUndefined();
    expect(unstuck.agent.stuck_at).toBeUndefined();
  });

  it("stops an alive agent's last_seen at the poll before it went transitional", () => {
    const alive = agent({ seen_at: 1 * MINUTE });
    const outcome = observe(alive, seen(5), ctx(10, 9 * MINUTE), settings);
    expect(outcome.update).toMatchObject({ status: "alive", misses: 0, seen_at: 9 * MINUTE, transitional_since: 10 * MINUTE });
    const upgrading = applyUpdate(alive, outcome.update!, 10 * MINUTE);
    expect(lastSeen(upgrading, 12 * MINUTE)).toBe(9 * MINUTE);
  });

  it("keeps a registered agent pending while it is being installed, and can report it stuck there", () => {
    const installing = run(pending(), times(3, seen(0)));
    expect(installing).toMatchObject({ kinds: [], agent: { status: "pending", status_class: "transitional", status_code: 0 } });
    expect(run(pending(), [...times(3, seen(0)), seen(2)]).kinds).toEqual(["newly_seen"]);
    expect(run(pending(), times(GRACE_MINUTES + 1, seen(0))).kinds).toEqual(["stuck"]);
  });

  it("marks the recovery of an agent first seen down (never alerted lost) silent, and of one alerted lost not", () => {
    const neverUp = run(pending(), [seen(3), seen(2)]);
    expect(neverUp.transitions.map((t) => [t.kind, t.silent ?? false])).toEqual([
      ["newly_seen", false],
      ["recovered", true],
    ]);
    const wasUp = run(agent(), [...times(K, seen(3)), seen(2)]);
    expect(wasUp.transitions.map((t) => [t.kind, t.silent ?? false])).toEqual([
      ["lost", false],
      ["recovered", false],
    ]);
  });

  it("treats the legacy get_agent_status's not alive as down, as before classes existed", () => {
    expect(classify(legacy(false))).toBe("degraded");
    expect(classify(legacy(true))).toBe("alive");
    const { kinds, agent: after } = run(agent(), times(K, legacy(false)));
    expect(kinds).toEqual(["lost"]);
    // The legacy call has no status_code: none is kept from an earlier list_agent_state answer.
    expect(after.status_code).toBeUndefined();
    expect(after.status_class).toBe("degraded");
  });

  it("emits lost only after K downs in a row after alive, whatever transitional and failed answers come between", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(2, 3, 7, 5, 1, -1), { maxLength: 60 }), (codes) => {
        const { kinds } = run(
          agent(),
          codes.map((code) => seen(code)),
        );
        let misses = 0;
        let lost = false;
        let expectedLost = 0;
        for (const code of codes) {
          if (code === 2) [misses, lost] = [0, false];
          else if ((code === 3 || code === 7) && !lost && ++misses === K) [lost, expectedLost] = [true, expectedLost + 1];
          else if ((code === 5 || code === 1) && !lost) misses = 0;
        }
        expect(kinds.filter((k) => k === "lost").length).toBe(expectedLost);
      }),
    );
  });
});

describe("heartbeat misses counted by the partition's polls", () => {
  it("makes the same transitions as writing every miss, whatever the answers and whichever polls leave the partition incomplete", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(2, 3, 4, 7, 5, 1, -1, -2), { maxLength: 60 }), fc.array(fc.boolean(), { maxLength: 60 }), (codes, incomplete) => {
        let everyMiss = agent();
        let counted = agent();
        let polls = 0;
        const before: string[] = [];
        const after: string[] = [];
        codes.forEach((code, i) => {
          const old = observe(everyMiss, seen(code), { ...ctx(i + 1), partitionPolls: undefined }, settings);
          before.push(...old.transitions.map((t) => t.kind));
          if (old.update) everyMiss = applyUpdate(everyMiss, old.update, (i + 1) * MINUTE);
          const now = observe(counted, seen(code), { ...ctx(i + 1), partitionPolls: polls }, settings);
          after.push(...now.transitions.map((t) => t.kind));
          if (now.update) counted = applyUpdate(counted, now.update, (i + 1) * MINUTE);
          if (incomplete[i]) {
            // What the shard writes for an incomplete partition (lib/heartbeat/shard.ts writeDeferred).
            const miss = now.deferred ?? (typeof now.update?.miss_seq === "number" && now.update.status === "alive" ? now.update : undefined);
            if (miss) counted = applyUpdate(counted, { ...miss, miss_seq: polls }, (i + 1) * MINUTE);
          } else polls++;
        });
        expect(after).toEqual(before);
        expect(counted.status).toBe(everyMiss.status);
      }),
      { numRuns: 500 },
    );
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
      const all = Array.from({ length: n }, (_, i) => shardPartitions(i, n))
        .flat()
        .sort((a, b) => a - b);
      expect(all).toEqual(Array.from({ length: FLEET_PARTITIONS }, (_, p) => p));
    }
  });
});
