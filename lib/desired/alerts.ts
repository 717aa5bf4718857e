/**
 * The one alert of an apply that did not stay applied (docs/desired-state.md §Apply): a change GSE
 * refused or that failed, or a bake gate that tripped, and what the undo did. It names objects and
 * versions, never documents: no secret can reach the topic through it.
 */
import type { Alert } from "../core/alerts.ts";
import type { StoredError } from "../config-versions/items.ts";
import type { ApplyItem } from "./store.ts";

export type DesiredApplyAlert = Alert & {
  readonly type: "config.desired_apply";
  readonly source: "gse-control/desired";
  readonly apply_id: string;
  readonly plan_id: string;
  readonly plat_name: string;
  readonly status: string;
  /** The change that failed (`streamto#12`, `route#1100001`, by name for a stream_to never created), or null when a gate tripped. */
  readonly failed_step: string | null;
  readonly gate: "alive_ratio" | "drift" | null;
  readonly error: StoredError | null;
  /** Objects brought back to what they were before the apply. */
  readonly undone: string[];
  /** Objects whose undo failed: GSE still holds what the apply wrote (or lost what it deleted). */
  readonly left: string[];
};

/** The one alert_id of an apply's alert: an apply ends rolled back once. */
export const desiredAlertId = (applyId: string): string => `desired-apply#${applyId}`;

const objectOf = (step: ApplyItem["steps"][number]): string => (step.id === null ? `${step.kind}:${step.name}` : `${step.kind}#${step.id}`);

export function desiredApplyAlert(item: ApplyItem, at: number): DesiredApplyAlert {
  const failed = item.steps.find((s) => s.status === "FAILED");
  const undone = item.steps.filter((s) => s.status === "UNDONE").map(objectOf);
  const left = item.steps.filter((s) => s.status === "UNDO_FAILED").map(objectOf);
  const gate = item.bake?.tripped?.gate ?? null;
  const cause =
    gate !== null
      ? `its ${gate} gate tripped (${item.bake?.tripped?.reason})`
      : `${failed ? objectOf(failed) : "a change"} failed: ${item.error?.message ?? "unknown error"}`;
  const outcome = left.length > 0 ? `undone ${undone.length}, undo failed for ${left.join(", ")}` : `all ${undone.length} applied changes undone`;
  return {
    type: "config.desired_apply",
    severity: item.status === "ROLLBACK_FAILED" ? "critical" : "warning",
    object: `desired#${item.plat_name}`,
    summary: `apply ${item.apply_id} of plan ${item.plan_id} (${item.plat_name}) ${item.status}: ${cause}; ${outcome}`,
    counts: { undone: undone.length, left: left.length },
    at: new Date(at).toISOString(),
    source: "gse-control/desired",
    apply_id: item.apply_id,
    plan_id: item.plan_id,
    plat_name: item.plat_name,
    status: item.status,
    failed_step: failed ? objectOf(failed) : null,
    gate,
    error: item.error,
    undone,
    left,
  };
}
