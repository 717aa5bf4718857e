import { describe, expect, it } from "vitest";
import { REQUEST_TIMEOUT_MARGIN_MS, RequestDeadline } from "../../../lib/core/deadline.ts";
import { RequestTimeoutError } from "../../../lib/core/errors.ts";

const resolvesAfter = <T>(ms: number, value: T): Promise<T> => new Promise((resolve) => setTimeout(() => resolve(value), ms));

describe("RequestDeadline", () => {
  it("falls REQUEST_TIMEOUT_MARGIN_MS before Lambda's own timeout", () => {
    expect(RequestDeadline.fromRemaining(1_000_000, 29_000).at).toBe(1_000_000 + 29_000 - REQUEST_TIMEOUT_MARGIN_MS);
    expect(RequestDeadline.fromRemaining(1_000_000, 100).at).toBe(1_000_000);
  });

  it("rejects with RequestTimeoutError naming what the handler said it works on, once the deadline passes", async () => {
    const deadline = new RequestDeadline(Date.now() + 20);
    deadline.working({ message_id: "m.1" });
    deadline.working({ check: "GET /v1/commands/m.1" });
    const error = await deadline.race(new Promise(() => {}), Date.now()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RequestTimeoutError);
    expect((error as RequestTimeoutError).data).toEqual({ outcome: "unknown", message_id: "m.1", check: "GET /v1/commands/m.1" });
    expect((error as RequestTimeoutError).status).toBe(504);
  });

  it("never fires for a deadline beyond a timer's range (setTimeout would fire at once)", async () => {
    await expect(new RequestDeadline(Number.POSITIVE_INFINITY).race(resolvesAfter(20, "done"), Date.now())).resolves.toBe("done");
    await expect(new RequestDeadline(Date.now() + 2 ** 32).race(resolvesAfter(20, "done"), Date.now())).resolves.toBe("done");
  });
});
