import { describe, expect, it } from "vitest";
import { classifyStatus, retryDelaySeconds } from "../../../lib/commands/forward.ts";

describe("classifyStatus", () => {
  it("delivers on 2xx, retries 429 and 5xx, and takes any other answer as a refusal that no retry can change", () => {
    expect([200, 201, 204].map(classifyStatus)).toEqual(["delivered", "delivered", "delivered"]);
    expect([429, 500, 502, 503, 504].map(classifyStatus)).toEqual(["retry", "retry", "retry", "retry", "retry"]);
    expect([301, 400, 401, 403, 404, 413].map(classifyStatus)).toEqual(["refused", "refused", "refused", "refused", "refused", "refused"]);
  });
});

describe("retryDelaySeconds", () => {
  it("doubles per receive from the base, capped by the maximum and by SQS's 12 hours", () => {
    expect([1, 2, 3, 4].map((n) => retryDelaySeconds(n, 10, 600))).toEqual([10, 20, 40, 80]);
    expect(retryDelaySeconds(20, 10, 600)).toBe(600);
    expect(retryDelaySeconds(40, 900, 100_000)).toBe(43_200);
  });
});
