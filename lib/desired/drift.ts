/**
 * Drift as a plan (docs/desired-state.md): the scheduled reconcile plans each platform's last
 * applied document against what GSE holds now. A plan with changes is what it would take to bring
 * GSE back: it is stored (source `drift`, apply it to repair) and alerted once per GSE state, so
 * the same drift is not reported every five minutes.
 */
import type { Alert, AlertPublisher } from "../core/alerts.ts";
import { ValidationError } from "../core/errors.ts";
import { storedError } from "../config-versions/change.ts";
import { savePlan, type PlanDeps } from "./plans.ts";
import { planAgainstGse } from "./plans.ts";
import { summaryOf } from "./plan.ts";

export interface DriftDeps extends PlanDeps {
  readonly alerts: AlertPublisher<Alert>;
}

export type DesiredDriftAlert = Alert & {
  readonly type: "config.desired_drift";
  readonly source: "gse-control/desired";
  readonly plat_name: string;
  readonly plan_id: string;
  readonly apply_id: string;
  readonly changes: readonly { kind: string; name: string; action: string }[];
};

/** The one alert of a platform's drift: what the drift plan would change, by object, without documents (no secret). */
export function desiredDriftAlert(drift: {
  plat_name: string;
  plan_id: string;
  apply_id: string;
  counts: { create: number; update: number; delete: number };
  changes: readonly { kind: string; name: string; action: string }[];
  at: number;
}): DesiredDriftAlert {
  const { counts } = drift;
  return {
    type: "config.desired_drift",
    severity: "warning",
    object: `desired#${drift.plat_name}`,
    summary: `GSE drifted from the last applied document of ${drift.plat_name} (apply ${drift.apply_id}): ${counts.create} to create, ${counts.update} to update, ${counts.delete} to delete; plan ${drift.plan_id} brings it back`,
    plat_name: drift.plat_name,
    plan_id: drift.plan_id,
    apply_id: drift.apply_id,
    changes: drift.changes,
    at: new Date(drift.at).toISOString(),
    source: "gse-control/desired",
  };
}

export interface DriftSummary {
  platforms: number;
  in_sync: number;
  drifted: number;
  /** Drift already reported at this GSE state: no new plan, no new alert. */
  reported_before: number;
  errors: number;
  plans: { plat_name: string; plan_id: string }[];
}

export async function driftAsPlans(deps: DriftDeps): Promise<DriftSummary> {
  const summary: DriftSummary = { platforms: 0, in_sync: 0, drifted: 0, reported_before: 0, errors: 0, plans: [] };
  for (const plat of await deps.store.lastAppliedPlatforms()) {
    summary.platforms++;
    try {
      const last = await deps.store.getLastApplied(plat);
      if (!last) continue;
      const item = await planAgainstGse(deps, last.document);
      const hash = item.state_hash;
      const counts = summaryOf(item.changes);
      if (counts.create + counts.update + counts.delete === 0) {
        summary.in_sync++;
        continue;
      }
      summary.drifted++;
      if (last.drift_hash === hash) {
        summary.reported_before++;
        continue;
      }
      const plan = await savePlan(deps, item, "gse-control/reconcile", "drift");
      summary.plans.push({ plat_name: plat, plan_id: plan.plan_id });
      const changed = item.changes.filter((c) => c.action !== "unchanged").map((c) => ({ kind: c.kind, name: c.name, action: c.action }));
      const alert = desiredDriftAlert({ plat_name: plat, plan_id: plan.plan_id, apply_id: last.apply_id, counts, changes: changed, at: deps.now() });
      await deps.alerts.publish(alert);
      // Noted after the alert: a crash in between reports the drift again rather than never.
      await deps.store.setDriftHash(plat, last.apply_id, hash);
      deps.logger?.warn("desired state drifted", { plat_name: plat, plan_id: plan.plan_id, summary: counts });
    } catch (error) {
      summary.errors++;
      deps.logger?.error(error instanceof ValidationError ? "the last applied document no longer plans" : "drift check failed", {
        plat_name: plat,
        error: storedError(error),
      });
    }
  }
  return summary;
}
