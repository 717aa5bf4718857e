import { describe, expect, it } from "vitest";
import { expectationOfDocument, expectationOfRequest, meets, nextDocument, type RouteDocument } from "../../../lib/config-versions/documents.ts";

const r = (name: string, id: number) => ({ name, stream_to: { stream_to_id: id, kafka: { topic_name: `t_${name}` } } });
const f = (name: string) => ({ name, field_index: 0, field_data_type: "int" as const, field_data_value: "1" });
const op = { operator_name: "admin" };
const channel = (route: RouteDocument["route"], filters: RouteDocument["stream_filters"] = []): RouteDocument => ({
  plat_name: "p",
  route,
  stream_filters: filters,
});

describe("nextDocument", () => {
  it("update_route upserts routes and filters by name and deletes nothing", () => {
    const before = channel([r("a", 1), r("b", 1)], [f("x")]);
    const after = nextDocument(
      "update_route",
      { condition: { channel_id: 1, plat_name: "p" }, operation: op, specification: { route: [r("b", 2), r("c", 3)] } },
      before,
    );
    expect(after).toEqual(channel([r("a", 1), r("b", 2), r("c", 3)], [f("x")]));
  });

  it("delete_route specification removes only the names given; all removes the channel", () => {
    const before = channel([r("a", 1), r("b", 1)], [f("x"), f("y")]);
    const spec = {
      condition: { channel_id: 1, plat_name: "p" },
      operation: { ...op, method: "specification" },
      specification: { route: ["a"], stream_filters: ["y"] },
    };
    expect(nextDocument("delete_route", spec, before)).toEqual(channel([r("b", 1)], [f("x")]));
    expect(nextDocument("delete_route", { ...spec, operation: { ...op, method: "all" } }, before)).toBeNull();
  });

  it("update_streamto replaces the whole stream_to and keeps the label; delete makes it absent", () => {
    const before = {
      plat_name: "p",
      label: { bk_biz_id: 2 },
      stream_to: { name: "s", report_mode: "kafka" as const, kafka: { storage_address: [{ ip: "a", port: 1 }], sasl_passwd: "old" } },
    };
    const replacement = { name: "s", report_mode: "kafka" as const, kafka: { storage_address: [{ ip: "b", port: 2 }] } };
    expect(
      nextDocument("update_streamto", { condition: { stream_to_id: 501, plat_name: "p" }, operation: op, specification: { stream_to: replacement } }, before),
    ).toEqual({
      plat_name: "p",
      label: { bk_biz_id: 2 },
      stream_to: replacement,
    });
    expect(nextDocument("delete_streamto", { condition: { stream_to_id: 501, plat_name: "p" }, operation: op }, before)).toBeNull();
  });
});

describe("meets", () => {
  it("checks only the fields sent for a change, but everything for a whole document", () => {
    const held = channel([r("a", 1), r("other", 9)]);
    expect(
      meets(held, expectationOfRequest("update_route", { condition: { channel_id: 1, plat_name: "p" }, operation: op, specification: { route: [r("a", 1)] } })),
    ).toBe(true);
    expect(meets(held, expectationOfDocument(channel([r("a", 1)])))).toBe(false);
    expect(meets(channel([r("a", 1)]), expectationOfDocument(channel([r("a", 1)])))).toBe(true);
  });

  it("sees a changed route, a name still there after its delete, and an object that should be gone", () => {
    expect(meets(channel([r("a", 2)]), expectationOfDocument(channel([r("a", 1)])))).toBe(false);
    const trim = expectationOfRequest("delete_route", {
      condition: { channel_id: 1, plat_name: "p" },
      operation: { ...op, method: "specification" },
      specification: { route: ["a"] },
    });
    expect(meets(channel([r("a", 1)]), trim)).toBe(false);
    // A channel left empty may be gone altogether (docs/gse-contract.md §7.4): both pass.
    expect(meets(null, trim)).toBe(true);
    expect(meets(channel([]), expectationOfDocument(null))).toBe(false);
    expect(meets(null, expectationOfDocument(null))).toBe(true);
  });

  it("accepts the defaults GSE adds on output (holdsDesired)", () => {
    const stored = channel([{ name: "a", stream_to: { stream_to_id: 1, kafka: { topic_name: "t_a", partition: 1, biz_id: 0 } } }]);
    expect(meets(stored, expectationOfDocument(channel([r("a", 1)])))).toBe(true);
  });
});
