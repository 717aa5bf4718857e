/**
 * What the alerts about configuration versions say: a failed change undone, adopted or left for a
 * person (rollback.ts's alertOf), and drift. The shape and the sending are the one alert's
 * (lib/core/alerts.ts); credentials in documents or error texts are masked by its publisher.
 */
import type { AlertType } from "../core/alert-catalog.ts";
import type { Alert, AlertSource } from "../core/alerts.ts";
import type { FieldChange } from "./mask.ts";
import type { StoredError } from "./items.ts";

/** The config alerts of the catalogue (lib/core/alert-catalog.ts): each says why it may be sent. */
export type ConfigAlertType = Extract<AlertType, `config.${string}`>;

export const CONFIG_ALERT_SOURCE = "gse-control/config-versions" as const satisfies AlertSource;

export type ConfigAlert = Alert & {
  readonly type: ConfigAlertType;
  /** critical: a human must act (GSE's state is not known to be good). */
  readonly severity: "warning" | "critical";
  readonly source: typeof CONFIG_ALERT_SOURCE;
  readonly failed_version?: number;
  readonly restored_version?: number;
  /** config.adopted: the version recording what GSE held instead. */
  readonly adopted_version?: number;
  readonly operation?: string;
  readonly author?: string;
  readonly error?: StoredError;
  readonly rollback_error?: StoredError;
  readonly details?: unknown;
};

/** An object's head as the drift check found it: GSE holds something else than this version. */
export interface Drifted {
  readonly object: string;
  readonly version: number;
  /** Field-level difference from the head's document to GSE's, secrets masked. */
  readonly changes: readonly FieldChange[];
}

/** The alert of a drifted head; `repairing`: CONFIG_DRIFT_REPAIR re-applies it now. */
export function driftAlert(drifted: Drifted, repairing: boolean, at: number): ConfigAlert {
  return {
    type: "config.drift",
    severity: "warning",
    object: drifted.object,
    summary: `GSE does not hold version ${drifted.version} of ${drifted.object}${repairing ? "; re-applying it" : ""}`,
    restored_version: drifted.version,
    details: { changes: drifted.changes },
    at: new Date(at).toISOString(),
    source: CONFIG_ALERT_SOURCE,
  };
}
