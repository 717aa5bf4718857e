/**
 * The instance's memo (lib/agent-state/memo.ts): bounded in entries, least recently used out first,
 * each copy trusted for maxAge after it was taken, never replaced by an older copy.
 */
import { describe, expect, it } from "vitest";
import { AgentMemo } from "../../../lib/agent-state/memo.ts";
import type { AgentItem } from "../../../lib/agent-state/store.ts";

const item = (agentId: string, fetchedAt: number): AgentItem =>
  ({ agent_id: agentId, fetched_at: fetchedAt, changed_at: fetchedAt, expires_at: 0, known: true, alive: 1 }) as unknown as AgentItem;

describe("AgentMemo", () => {
  it("keeps at most maxItems entries, the least recently used out first", () => {
    let clock = 1_000;
    const memo = new AgentMemo({ maxItems: 3, maxAgeMs: 60_000, now: () => clock });
    for (const id of ["a", "b", "c"]) memo.set(item(id, clock));
    expect(memo.get("a")?.agent_id).toBe("a"); // a is now the most recent; b the least
    clock += 1;
    memo.set(item("d", clock));
    expect(memo.size).toBe(3);
    expect(memo.get("b")).toBeUndefined();
    expect(["a", "c", "d"].map((id) => memo.get(id)?.agent_id)).toEqual(["a", "c", "d"]);
  });

  it("trusts a copy for maxAge after it was taken, then forgets it", () => {
    let clock = 1_000;
    const memo = new AgentMemo({ maxItems: 10, maxAgeMs: 5_000, now: () => clock });
    memo.set(item("a", clock));
    clock += 4_999;
    expect(memo.get("a")).toBeDefined();
    clock += 2;
    expect(memo.get("a")).toBeUndefined();
  });

  it("ignores a copy older than the one it holds", () => {
    const memo = new AgentMemo({ maxItems: 10, maxAgeMs: 60_000, now: () => 1_000 });
    memo.set(item("a", 900));
    memo.set(item("a", 800));
    expect(memo.get("a")?.fetched_at).toBe(900);
  });

  it("is off with maxItems 0 or maxAge 0", () => {
    for (const options of [
      { maxItems: 0, maxAgeMs: 60_000 },
      { maxItems: 10, maxAgeMs: 0 },
    ]) {
      const memo = new AgentMemo({ ...options, now: () => 1_000 });
      memo.set(item("a", 1_000));
      expect([memo.enabled, memo.get("a")]).toEqual([false, undefined]);
    }
  });
});
