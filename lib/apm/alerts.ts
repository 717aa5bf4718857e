/**
 * What the alert about a failed APM datasource start or stop says. The shape and the sending are
 * the one alert's (lib/core/alerts.ts).
 */
import type { StoredError } from "../config-versions/items.ts";
import type { Alert } from "../core/alerts.ts";
import type { AppView, ApplyStep, DatasourceName } from "./schemas.ts";

export type DatasourceApplyAlert = Alert & {
  readonly type: "apm.datasource_apply";
  readonly source: "gse-control/apm";
  readonly bk_biz_id: number;
  readonly app_name: string;
  readonly datasource: DatasourceName;
  readonly action: "start" | "stop";
  readonly step: ApplyStep;
  readonly error: StoredError;
  readonly rollback_error?: StoredError;
  /** The rollout that told the probes, and the gate whose trip aborted it (null: an operator's abort). */
  readonly rollout_id?: string;
  readonly gate?: string | null;
};

export interface DatasourceApplyFailed {
  readonly app: Pick<AppView, "bk_biz_id" | "app_name">;
  readonly datasource: DatasourceName;
  readonly action: "start" | "stop";
  readonly step: ApplyStep;
  readonly error: StoredError;
  /** Set when undoing the failed step failed too: GSE's state is then not known to be good. */
  readonly rollbackError?: StoredError | undefined;
  readonly summary: string;
  readonly at: number;
  readonly rollout?: { readonly rollout_id: string; readonly gate: string | null } | undefined;
}

/** The alert of a start or stop that failed and was undone; critical when the undo failed too. */
export function datasourceApplyAlert(failed: DatasourceApplyFailed): DatasourceApplyAlert {
  const { app, datasource, action, step, error, rollbackError } = failed;
  return {
    type: "apm.datasource_apply",
    severity: rollbackError ? "critical" : "warning",
    object: `apm#${app.bk_biz_id}#${app.app_name}#${datasource}`,
    summary: failed.summary,
    bk_biz_id: app.bk_biz_id,
    app_name: app.app_name,
    datasource,
    action,
    step,
    error,
    ...(rollbackError ? { rollback_error: rollbackError } : {}),
    ...(failed.rollout ? { rollout_id: failed.rollout.rollout_id, gate: failed.rollout.gate } : {}),
    at: new Date(failed.at).toISOString(),
    source: "gse-control/apm",
  };
}
