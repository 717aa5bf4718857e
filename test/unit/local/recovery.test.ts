import { describe, expect, it } from "vitest";
import { tickRunningCommands, type RecoveryDeps } from "../../../local/recovery.ts";

describe("the runtime's start-up recovery", () => {
  it("sends a tick for every RUNNING command, across pages of the listing", async () => {
    const pages: Record<string, { items: { message_id: string }[]; cursor: string | undefined }> = {
      first: { items: [{ message_id: "a" }, { message_id: "b" }], cursor: "p2" },
      p2: { items: [{ message_id: "c" }], cursor: undefined },
    };
    const ticks: string[] = [];
    const deps: RecoveryDeps = {
      listRunning: async (cursor) => pages[cursor ?? "first"] ?? { items: [], cursor: undefined },
      tick: async (id) => void ticks.push(id),
    };
    expect(await tickRunningCommands(deps)).toEqual(["a", "b", "c"]);
    expect(ticks).toEqual(["a", "b", "c"]);
  });

  it("sends nothing when no command is RUNNING", async () => {
    const ticks: string[] = [];
    expect(await tickRunningCommands({ listRunning: async () => ({ items: [], cursor: undefined }), tick: async (id) => void ticks.push(id) })).toEqual([]);
    expect(ticks).toEqual([]);
  });
});
