/** The one alert of an apply that did not stay applied: what failed or tripped, what was undone, what is left; never a document. */
import { describe, expect, it } from "vitest";
import { desiredApplyAlert } from "../../../lib/desired/alerts.ts";
import { alertSchema } from "../../../lib/core/alerts.ts";
import { applyItem, applyStep as step } from "../../helpers/desired-items.ts";

const AT = Date.UTC(2026, 10, 25, 12, 0, 0);

describe("the desired apply alert", () => {
  it("names the apply, the plan, the failed step and what was undone, as a warning that fits the one schema", () => {
    const alert = desiredApplyAlert(applyItem(), AT);
    expect(alertSchema.safeParse(alert).error).toBeUndefined();
    expect(alert).toMatchObject({
      type: "config.desired_apply",
      severity: "warning",
      object: "desired#bkmonitor",
      apply_id: "apply-abcdef",
      plan_id: "plan-abcdef",
      failed_step: "route#1100001",
      gate: null,
      undone: ["streamto#101"],
      left: [],
    });
    expect(alert.summary).toContain("route#1100001 failed: GSE refused");
  });

  it("is critical and names what is left when an undo failed", () => {
    const alert = desiredApplyAlert(
      applyItem({ status: "ROLLBACK_FAILED", steps: [step(1, { status: "UNDO_FAILED", error: { message: "cannot re-create" } }), step(2, {})] }),
      AT,
    );
    expect(alert).toMatchObject({ severity: "critical", left: ["streamto#101"], undone: ["streamto#102"] });
    expect(alertSchema.safeParse(alert).success).toBe(true);
  });

  it("names the gate that tripped and its reason", () => {
    const bake = { seconds: 600, until: AT, gate: null, alive_before: 100, alive_now: 80, tripped: { gate: "alive_ratio" as const, reason: "fell 20 points" } };
    const alert = desiredApplyAlert(applyItem({ bake, steps: [step(1, {})] }), AT);
    expect(alert).toMatchObject({ gate: "alive_ratio", failed_step: null });
    expect(alert.summary).toContain("alive_ratio gate tripped (fell 20 points)");
  });
});
