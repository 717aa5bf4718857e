import { describe, expect, it } from "vitest";
import { holdsDesired } from "../../../lib/gse/config-apply.ts";
import { parseRetryAfter } from "../../../lib/gse/client.ts";

describe("holdsDesired", () => {
  it("ignores defaults GSE adds on output", () => {
    expect(holdsDesired({ topic_name: "t", partition: 1, biz_id: 0, data_set: "" }, { topic_name: "t" })).toBe(true);
  });
  it("accepts either spelling of a Pulsar topic", () => {
    expect(holdsDesired({ topic_name: "p" }, { name: "p" })).toBe(true);
    expect(holdsDesired({ name: "p" }, { topic_name: "p" })).toBe(true);
  });
  it("sees a changed value, a missing field and a different list", () => {
    expect(holdsDesired({ stream_to_id: 502 }, { stream_to_id: 501 })).toBe(false);
    expect(holdsDesired({}, { sasl_username: "u" })).toBe(false);
    expect(
      holdsDesired(
        { storage_address: [{ ip: "a", port: 1 }] },
        {
          storage_address: [
            { ip: "a", port: 1 },
            { ip: "b", port: 2 },
          ],
        },
      ),
    ).toBe(false);
  });
});

describe("parseRetryAfter", () => {
  it("reads seconds and HTTP dates", () => {
    expect(parseRetryAfter("3")).toBe(3000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(parseRetryAfter("soon")).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });
});
