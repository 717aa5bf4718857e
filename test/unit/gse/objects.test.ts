import { describe, expect, it } from "vitest";
import { findStreamTo, listedStreamTo } from "../../../lib/gse/objects.ts";

const kafka = { name: "s", report_mode: "kafka", kafka: { storage_address: [{ ip: "10.0.0.1", port: 9092 }], topic_name: "t" } };
const nested = (id: number) => ({ metadata: { stream_to_id: id, plat_name: "bkmonitor" }, stream_to: kafka });
const flat = (id: number) => ({ stream_to_id: id, ...kafka });

describe("listedStreamTo", () => {
  it("reads a nested item as nested and a flat one as flat, keeping the flat item whole", () => {
    expect(listedStreamTo(nested(7))).toMatchObject({ shape: "nested", id: 7, platName: "bkmonitor", streamTo: kafka });
    expect(listedStreamTo(flat(8))).toEqual({ shape: "flat", id: 8, streamTo: flat(8) });
  });
  it("reads an item carrying both shapes as nested, and one of neither as nothing", () => {
    expect(listedStreamTo({ ...flat(9), ...nested(7) })).toMatchObject({ shape: "nested", id: 7 });
    expect(listedStreamTo({ stream_to_id: 1 })).toBeUndefined();
  });
});

describe("findStreamTo", () => {
  it("finds the item by id in either shape, skipping others and unreadable ones", () => {
    expect(findStreamTo([nested(1), { junk: true }, flat(2)], 2)).toMatchObject({ shape: "flat", id: 2 });
    expect(findStreamTo([nested(1), flat(2)], 1)).toMatchObject({ shape: "nested", id: 1 });
    expect(findStreamTo([nested(1)], 3)).toBeUndefined();
  });
  it("finds an item by its flat id when its nested id is another", () => {
    expect(findStreamTo([{ ...flat(9), ...nested(7) }], 9)).toMatchObject({ shape: "flat", id: 9 });
  });
});
