import { describe, expect, it } from "vitest";
import { readBatchResponse } from "../../../local/pollers/batch-response.ts";

describe("readBatchResponse", () => {
  const ids = ["1", "2", "3"];
  it("treats no result or an empty failure list as success", () => {
    expect(readBatchResponse(undefined, ids)).toEqual({ kind: "ok" });
    expect(readBatchResponse({ batchItemFailures: [] }, ids)).toEqual({ kind: "ok" });
  });
  it("lists the failed identifiers", () => {
    const outcome = readBatchResponse({ batchItemFailures: [{ itemIdentifier: "2" }] }, ids);
    expect(outcome.kind).toBe("partial");
    expect(outcome.kind === "partial" && [...outcome.failedIds]).toEqual(["2"]);
  });
  it("fails the whole batch when an identifier is not in it, as Lambda does", () => {
    expect(readBatchResponse({ batchItemFailures: [{ itemIdentifier: "9" }] }, ids).kind).toBe("error");
  });
});
