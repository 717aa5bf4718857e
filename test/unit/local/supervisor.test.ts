import { describe, expect, it } from "vitest";
import { restartBudget, RUNTIME_RESTARTS } from "../../../local/supervisor.ts";

describe("the runtime's restart budget", () => {
  it("allows 3 restarts in 60 s and refuses the 4th", () => {
    let now = 0;
    const budget = restartBudget({ ...RUNTIME_RESTARTS, now: () => now });
    expect([budget.take(), budget.take(), budget.take()]).toEqual([true, true, true]);
    now = 59_999;
    expect(budget.take()).toBe(false);
  });

  it("allows a restart again once the oldest one is 60 s old: a runtime that crashes now and then is always restarted", () => {
    let now = 0;
    const budget = restartBudget({ ...RUNTIME_RESTARTS, now: () => now });
    for (const at of [0, 10_000, 20_000]) {
      now = at;
      expect(budget.take()).toBe(true);
    }
    now = 60_000;
    expect(budget.take()).toBe(true);
    expect(budget.take()).toBe(false);
    // Once a crash a minute, for an hour.
    for (let minute = 2; minute < 62; minute++) {
      now = minute * 60_000;
      expect(budget.take()).toBe(true);
    }
  });
});
