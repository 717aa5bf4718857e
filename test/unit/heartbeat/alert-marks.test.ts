import { describe, expect, it } from "vitest";
import { ALERT_MARK_HORIZON_MS, alertOfMarked, dueMarkOf, marksAfter, statusAfter } from "../../../lib/heartbeat/alert-marks.ts";

const MINUTE = 60_000;
const at = Date.UTC(2026, 11, 3, 12, 0, 0);
const pollId = new Date(at).toISOString();
const pollAt = (minutesAgo: number): string => new Date(at - minutesAgo * MINUTE).toISOString();

describe("heartbeat alert marks", () => {
  it("marks the alert a write owes under its poll, and finds it again for the same shard only", () => {
    const marks = marksAfter({}, { pollId, at, shard: "0+" }, { transitions: [{ kind: "lost" }], from: "alive" });
    expect(marks).toEqual({ [pollId]: "0+#lost#alive" });
    const agent = { alerts_due: marks ?? undefined };
    expect(dueMarkOf(agent, { pollId, shard: "0+" })).toEqual({ shard: "0+", transitions: [{ kind: "lost" }], from: "alive" });
    // The leftover shard of the same poll re-observes the agent; the alert is the first shard's to count.
    expect(dueMarkOf(agent, { pollId, shard: "0" })).toBeUndefined();
    expect(dueMarkOf(agent, { pollId: pollAt(1), shard: "0+" })).toBeUndefined();
  });

  it("keeps another poll's mark a re-run may still need, and drops marks past the horizon", () => {
    const recent = pollAt(1);
    const old = new Date(at - ALERT_MARK_HORIZON_MS).toISOString();
    const agent = { alerts_due: { [recent]: "0#lost#alive", [old]: "0#recovered#lost" } };
    expect(marksAfter(agent, { pollId, at, shard: "0" }, { transitions: [{ kind: "recovered" }], from: "lost" })).toEqual({
      [recent]: "0#lost#alive",
      [pollId]: "0#recovered#lost",
    });
    // A write that owes nothing drops what is past the horizon, and leaves the field alone when nothing is.
    expect(marksAfter(agent, { pollId, at, shard: "0" }, undefined)).toEqual({ [recent]: "0#lost#alive" });
    expect(marksAfter({ alerts_due: { [old]: "0#lost#alive" } }, { pollId, at, shard: "0" }, undefined)).toBeNull();
    expect(marksAfter({ alerts_due: { [recent]: "0#lost#alive" } }, { pollId, at, shard: "0" }, undefined)).toBeUndefined();
    expect(marksAfter({}, { pollId, at, shard: "0" }, undefined)).toBeUndefined();
  });

  it("ignores a mark it cannot read rather than alerting on it", () => {
    for (const mark of [
      "0#lost",
      "#lost#alive",
      "0#news#alive",
      "0#lost#gone",
      "lost",
      "0##alive",
      "0#lost,news#alive",
      "0#lost:loud#alive",
      "0#version_changed#alive#v=%E0%A4%A",
    ]) {
      expect(dueMarkOf({ alerts_due: { [pollId]: mark } }, { pollId, shard: "0" })).toBeUndefined();
    }
    expect(dueMarkOf({ alerts_due: { [pollId]: "a#b#stuck#alive" } }, { pollId, shard: "a#b" })).toEqual({
      shard: "a#b",
      transitions: [{ kind: "stuck" }],
      from: "alive",
    });
  });

  it("marks every transition of a write, the silent recovery as silent and the version a change replaced, and reads them back", () => {
    const due = {
      transitions: [{ kind: "recovered", silent: true }, { kind: "version_changed" }],
      from: "lost",
      previousVersion: "2.1#beta 1",
    } as const;
    const marks = marksAfter({}, { pollId, at, shard: "0" }, due);
    expect(marks).toEqual({ [pollId]: "0#recovered:silent,version_changed#lost#v=2.1%23beta%201" });
    expect(dueMarkOf({ alerts_due: marks ?? undefined }, { pollId, shard: "0" })).toEqual({ shard: "0", ...due });
    // A newly seen agent's mark, with no version to carry.
    expect(dueMarkOf({ alerts_due: { [pollId]: "0#newly_seen#pending" } }, { pollId, shard: "0" })).toEqual({
      shard: "0",
      transitions: [{ kind: "newly_seen" }],
      from: "pending",
    });
  });

  it("raises the alert of an alerting transition only, and none for a silent one", () => {
    expect(alertOfMarked({ kind: "lost" })).toBe("lost");
    expect(alertOfMarked({ kind: "recovered" })).toBe("recovered");
    expect(alertOfMarked({ kind: "recovered", silent: true })).toBeUndefined();
    expect(alertOfMarked({ kind: "newly_seen" })).toBeUndefined();
    expect(alertOfMarked({ kind: "version_changed" })).toBeUndefined();
  });

  it("gives the status each alerting transition leaves the agent in", () => {
    expect(statusAfter({ kind: "lost", from: "alive" })).toBe("lost");
    expect(statusAfter({ kind: "recovered", from: "lost" })).toBe("alive");
    expect(statusAfter({ kind: "unknown", from: "pending" })).toBe("unknown");
    expect(statusAfter({ kind: "stuck", from: "pending" })).toBe("pending");
  });
});
