/** computePlan, pure: what changes, in which order, and what is refused, from a document and a state. */
import { describe, expect, it } from "vitest";
import { computePlan, resolvedChannel, type PlannedRouteDocument } from "../../../lib/desired/plan.ts";
import { desiredDocumentSchema, type DesiredDocumentInput } from "../../../lib/desired/schemas.ts";
import type { GseState } from "../../../lib/desired/state.ts";
import type { RouteDocument, StreamToDocument } from "../../../lib/config-versions/documents.ts";

const kafka = (name: string): StreamToDocument => ({
  plat_name: "bkmonitor",
  stream_to: { name, report_mode: "kafka", kafka: { storage_address: [{ ip: "10.0.0.1", port: 9092 }] } },
});
const channel = (routes: { name: string; id: number; topic: string }[]): RouteDocument => ({
  plat_name: "bkmonitor",
  route: routes.map((r) => ({ name: r.name, stream_to: { stream_to_id: r.id, kafka: { topic_name: r.topic } } })),
  stream_filters: [],
});
const state = (streamTos: [number, StreamToDocument][], channels: [number, RouteDocument | null][] = []): GseState => ({
  plat_name: "bkmonitor",
  stream_tos: streamTos.map(([id, document]) => ({ id, document })),
  channels: new Map(channels),
});
const doc = (input: Omit<DesiredDocumentInput, "plat_name">) => desiredDocumentSchema.parse({ plat_name: "bkmonitor", ...input });
const kafkaDesired = (name: string) => ({ name, report_mode: "kafka", kafka: { storage_address: [{ ip: "10.0.0.1", port: 9092 }] } });
const routeTo = (name: string, streamTo: string, topic: string) => ({ name, stream_to: { name: streamTo, kafka: { topic_name: topic } } });

describe("computePlan", () => {
  it("says unchanged for what GSE already holds, update for a changed topic, and resolves a route's stream_to name to its id", () => {
    const outcome = computePlan(
      doc({ stream_tos: [kafkaDesired("k")], routes: [{ channel_id: 1001, route: [routeTo("r", "k", "t2")] }] }),
      state([[501, kafka("k")]], [[1001, channel([{ name: "r", id: 501, topic: "t1" }])]]),
    );
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    expect(outcome.changes.map((c) => [c.kind, c.name, c.id, c.action])).toEqual([
      ["streamto", "k", 501, "unchanged"],
      ["route", "1001", 1001, "update"],
    ]);
    const after = outcome.changes[1]?.after as PlannedRouteDocument;
    expect(resolvedChannel(after, new Map())?.route[0]?.stream_to).toEqual({ stream_to_id: 501, kafka: { topic_name: "t2" } });
  });

  it("orders stream_to creates before the routes that use them, and channel deletes before stream_to deletes", () => {
    const outcome = computePlan(
      doc({
        prune: true,
        stream_tos: [kafkaDesired("new")],
        routes: [
          { channel_id: 1002, absent: true },
          { channel_id: 1001, route: [routeTo("r", "new", "t")] },
        ],
      }),
      state(
        [[502, kafka("old")]],
        [
          [1001, null],
          [1002, channel([{ name: "x", id: 502, topic: "t" }])],
        ],
      ),
    );
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    expect(outcome.changes.map((c) => [c.order, c.kind, c.name, c.action])).toEqual([
      [1, "streamto", "new", "create"],
      [2, "route", "1001", "create"],
      [3, "route", "1002", "delete"],
      [4, "streamto", "old", "delete"],
    ]);
  });

  it("prunes channels the last applied document named and this one does not, and leaves unnamed ones alone without prune", () => {
    const gse = state([[501, kafka("k")]], [[1003, channel([{ name: "r", id: 501, topic: "t" }])]]);
    const pruned = computePlan(doc({ prune: true, stream_tos: [kafkaDesired("k")] }), gse, [1003]);
    expect(pruned.ok && pruned.changes.map((c) => [c.name, c.action])).toEqual([
      ["k", "unchanged"],
      ["1003", "delete"],
    ]);
    const kept = computePlan(doc({ stream_tos: [kafkaDesired("k")] }), gse, [1003]);
    expect(kept.ok && kept.changes.map((c) => [c.name, c.action])).toEqual([["k", "unchanged"]]);
  });

  it("refuses deleting a stream_to that a channel it does not change still sends to, naming both", () => {
    const outcome = computePlan(
      doc({ stream_tos: [{ name: "k", absent: true }] }),
      state([[501, kafka("k")]], [[1004, channel([{ name: "r", id: 501, topic: "t" }])]]),
    );
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.problems[0]?.message).toBe("stream_to k is deleted by this plan but route r of channel 1004 still sends to it");
  });

  it("refuses a filter a route names and its channel lacks, and a name GSE holds twice (in the document and in a route)", () => {
    const outcome = computePlan(
      doc({ stream_tos: [kafkaDesired("dup")], routes: [{ channel_id: 1005, route: [{ ...routeTo("r", "dup", "t"), filter_name_and: ["f1"] }] }] }),
      state([
        [501, kafka("dup")],
        [502, kafka("dup")],
      ]),
    );
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.problems.map((p) => p.path)).toEqual(["stream_tos.0.name", "routes.0.route.0.stream_to.name", "routes.0.route.0"]);
    expect(outcome.problems[1]?.message).toContain("which GSE holds more than once");
  });

  it("refuses a document that names a stream_to or a channel twice (the schema)", () => {
    const parsed = desiredDocumentSchema.safeParse({
      plat_name: "p",
      stream_tos: [kafkaDesired("a"), kafkaDesired("a")],
      routes: [{ channel_id: 1001 }, { channel_id: 1001 }],
    });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => i.path.join("."))).toEqual(["stream_tos.1", "routes.1"]);
  });
});
