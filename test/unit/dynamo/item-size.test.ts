import { describe, expect, it } from "vitest";
import { biggestField, itemSize, valueSize } from "../../../lib/dynamo/item-size.ts";

describe("itemSize", () => {
  it("counts attribute names and values as DynamoDB does", () => {
    // "pk"(2) + "ab"(2); "n"(1) + 3 digits → 3 bytes; "m"(1) + map 3 + ("k"(1) + 1 + true 1); "l"(1) + list 3 + (1 + null 1)
    expect(itemSize({ pk: "ab", n: 123, m: { k: true }, l: [null] })).toBe(4 + 4 + (1 + 6) + (1 + 5));
  });

  it("counts strings in UTF-8 bytes", () => {
    expect(valueSize("é")).toBe(2);
    expect(valueSize("😀")).toBe(4);
  });

  it("leaves undefined attributes out, as the document client does", () => {
    expect(itemSize({ a: "x", b: undefined })).toBe(2);
  });
});

describe("biggestField", () => {
  it("names one huge field down to the field itself", () => {
    const body = { metadata: { plat_name: "p" }, route: [{ name: "r", stream_to: { kafka: { extra: "x".repeat(10_000) } } }] };
    expect(biggestField(body)).toMatchObject({ path: "route.0.stream_to.kafka.extra" });
  });

  it("names a long list of ordinary entries as the list", () => {
    const body = {
      operation: { operator_name: "admin" },
      specification: { route: Array.from({ length: 100 }, (_, i) => ({ name: `r${i}`, topic: "t".repeat(100) })) },
    };
    expect(biggestField(body)).toMatchObject({ path: "specification.route" });
  });
});
