import { describe, expect, it } from "vitest";
import { eventually, logLines, useStack } from "../../helpers/stack.ts";

const { info } = useStack();

describe("heartbeat schedule", () => {
  it("runs the heartbeat function on the local stack's one-minute schedule, without error", async () => {
    const run = await eventually(
      "a scheduled heartbeat run in the runtime log",
      () =>
        logLines(info, "runtime")
          .map((line) => {
            try {
              return JSON.parse(line) as Record<string, unknown>;
            } catch {
              return {};
            }
          })
          .find((entry) => entry.component === "scheduler" && entry.schedule === "Heartbeat"),
      75_000,
    );
    expect(run.error).toBeUndefined();
    expect(logLines(info, "runtime").some((line) => line.includes("heartbeat poll finished"))).toBe(true);
  }, 90_000);
});
