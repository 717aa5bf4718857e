import { describe, expect, it } from "vitest";
import type { RouteDocument, StreamToDocument } from "../../../lib/config-versions/documents.ts";
import { planRestore } from "../../../lib/config-versions/restore.ts";

const entry = (name: string, topic: string) => ({ name, stream_to: { stream_to_id: 501, kafka: { topic_name: topic } } });
const channel = (...route: ReturnType<typeof entry>[]): RouteDocument => ({ plat_name: "bkmonitor", route, stream_filters: [] });
/** GSE adds defaults on output (docs/gse-contract.md §10b.2): what it holds is more than what was sent. */
const asGseHolds = (doc: RouteDocument): RouteDocument => ({
  ...doc,
  route: doc.route.map((r) => ({ ...r, stream_to: { ...r.stream_to, kafka: { topic_name: r.stream_to.kafka?.topic_name ?? "", partition: 1, biz_id: 0 } } })),
});

const a = entry("a", "ta");
const b = entry("b", "tb");
const b2 = entry("b", "tb-theirs");
const c = entry("c", "tc");

describe("compare-and-restore of a route channel", () => {
  it("undoes an update GSE still holds as written: back to the last good entries", () => {
    const plan = planRestore("route", channel(a), channel(a, b), asGseHolds(channel(a, b)));
    expect(plan).toMatchObject({ undo: true, foreign: false });
    expect((plan.target as RouteDocument).route.map((r) => r.name)).toEqual(["a"]);
  });

  it("writes nothing when GSE still holds the last good version: the change did not take effect", () => {
    expect(planRestore("route", channel(a), channel(a, b), channel(a))).toMatchObject({ undo: false, foreign: false });
  });

  it("keeps another client's entry and undoes only ours", () => {
    const plan = planRestore("route", channel(a), channel(a, b), channel(a, b, c));
    expect(plan).toMatchObject({ undo: true, foreign: true });
    expect((plan.target as RouteDocument).route.map((r) => r.name)).toEqual(["a", "c"]);
  });

  it("leaves an entry another client rewrote after us alone", () => {
    const plan = planRestore("route", channel(a), channel(a, b), channel(a, b2));
    expect(plan).toMatchObject({ undo: false, foreign: true });
    expect((plan.target as RouteDocument).route).toEqual([a, b2]);
  });

  it("re-creates a channel the failed version deleted while it is still gone", () => {
    expect(planRestore("route", channel(a), null, null)).toEqual({ target: channel(a), undo: true, foreign: false });
  });

  it("does not bring back a deleted channel someone else has re-created since", () => {
    expect(planRestore("route", channel(a), null, channel(c))).toMatchObject({ target: channel(c), undo: false, foreign: true });
  });

  it("deletes a channel the failed version created only while it holds nothing but ours", () => {
    expect(planRestore("route", null, channel(a), channel(a))).toEqual({ target: null, undo: true, foreign: false });
    const shared = planRestore("route", null, channel(a), channel(a, c));
    expect(shared).toMatchObject({ undo: true, foreign: true });
    expect((shared.target as RouteDocument).route).toEqual([c]);
  });

  it("adopts a channel gone since an update (someone deleted it): nothing to write", () => {
    expect(planRestore("route", channel(a), channel(a, b), null)).toEqual({ target: null, undo: false, foreign: true });
  });

  it("restores the channel's plat_name from the last good version, never the failed request's", () => {
    const good = channel(a);
    const plan = planRestore("route", good, { ...channel(a, b), plat_name: "tgdp" }, { ...channel(a, b), plat_name: "bkmonitor" });
    expect((plan.target as RouteDocument).plat_name).toBe("bkmonitor");
  });
});

describe("compare-and-restore of a stream_to", () => {
  const st = (host: string): StreamToDocument => ({
    plat_name: "bkmonitor",
    stream_to: { name: "k", report_mode: "kafka", kafka: { storage_address: [{ ip: host, port: 9092 }] } },
  });

  it("puts back the previous receiver while GSE holds ours", () => {
    expect(planRestore("streamto", st("old"), st("new"), st("new"))).toEqual({ target: st("old"), undo: true, foreign: false });
  });

  it("leaves a receiver another client set alone", () => {
    expect(planRestore("streamto", st("old"), st("new"), st("theirs"))).toMatchObject({ undo: false, foreign: true });
  });

  it("treats a stream_to gone since an update as someone else's doing", () => {
    expect(planRestore("streamto", st("old"), st("new"), null)).toEqual({ target: null, undo: false, foreign: true });
  });

  it("asks to re-create a stream_to the failed version deleted (converge then says it cannot)", () => {
    expect(planRestore("streamto", st("old"), null, null)).toEqual({ target: st("old"), undo: true, foreign: false });
  });
});
