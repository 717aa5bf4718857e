import { describe, expect, it } from "vitest";
import { isDown, STATUS_CLASSES, statusClassOf, statusNameOf } from "../../../lib/gse/status-class.ts";
import { classOfAgent } from "../../../lib/fleet/view-rules.ts";

describe("GSE status classes", () => {
  it("maps every GSE 2.0 status_code (docs/gse-contract.md §3.2) to its class", () => {
    const classes = Object.fromEntries([-2, -1, 0, 1, 2, 3, 4, 5, 6, 7].map((code) => [code, statusClassOf(code)]));
    expect(classes).toEqual({
      [-2]: "unknown",
      [-1]: "unknown",
      0: "transitional",
      1: "transitional",
      2: "alive",
      3: "degraded",
      4: "degraded",
      5: "transitional",
      6: "transitional",
      7: "gone",
    });
  });

  it("calls an id missing from GSE's answer unknown, and a code GSE may add later down", () => {
    expect(statusClassOf(undefined)).toBe("unknown");
    expect(statusClassOf(8)).toBe("degraded");
    expect(statusNameOf(8)).toBe("code 8");
  });

  it("names each code as bk-job and the GSE SDK do (5 upgrading, 6 stopping)", () => {
    expect([-2, -1, 0, 1, 2, 3, 4, 5, 6, 7].map(statusNameOf)).toEqual([
      "not_found",
      "query_failed",
      "initial",
      "starting",
      "running",
      "lossy",
      "busy",
      "upgrading",
      "stopping",
      "removing",
    ]);
  });

  it("counts only degraded and gone as down", () => {
    expect(STATUS_CLASSES.filter(isDown)).toEqual(["degraded", "gone"]);
  });

  it("derives the class of an item written before classes existed from what it holds", () => {
    expect(classOfAgent({ status: "alive", misses: 0, status_code: 2 })).toBe("alive");
    expect(classOfAgent({ status: "lost", misses: 3, status_code: 5 })).toBe("transitional");
    // An unknown item kept the code GSE gave before it omitted the id.
    expect(classOfAgent({ status: "unknown", misses: 0, status_code: 2 })).toBe("unknown");
    // Filled by the legacy call: no code at all.
    expect(classOfAgent({ status: "alive", misses: 1 })).toBe("degraded");
    expect(classOfAgent({ status: "pending", misses: 0 })).toBeUndefined();
    expect(classOfAgent({ status: "alive", misses: 0, status_code: 2, status_class: "transitional" })).toBe("transitional");
  });
});
