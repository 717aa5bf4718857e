/**
 * The one alert of a rollout a gate aborted (docs/rollouts.md §3): the gate, the counts and a
 * sample. An operator's abort raises none: a person asked.
 */
import type { Alert } from "../core/alerts.ts";
import type { GateName, GateState } from "./items.ts";

export const ROLLOUT_ALERT_SAMPLE = 20;

export type RolloutAlert = Alert & {
  readonly type: "rollout.aborted";
  readonly source: "gse-control/rollouts";
  readonly rollout_id: string;
  readonly gate: GateName;
  readonly reason: string;
  readonly targets: number;
  readonly waves: number;
  readonly errors: number;
  readonly max_errors: number | null;
  readonly touched: number;
  readonly unhealthy: number;
  readonly threshold: number | null;
  readonly undo: string | null;
};

/** The one alert_id of a rollout's abort: a rollout aborts once. */
export const rolloutAlertId = (id: string): string => `rollout#${id}`;

export function rolloutAbortAlert(
  rollout: { rollout_id: string; target_count: number; current_wave: number; errors: number; max_errors: number | null },
  gate: GateName,
  state: GateState,
  reason: string,
  sample: readonly { bk_agent_id: string; why: string }[],
  undo: string | null,
  at: number,
): RolloutAlert {
  return {
    type: "rollout.aborted",
    severity: "warning",
    object: `rollout#${rollout.rollout_id}`,
    summary: `rollout ${rollout.rollout_id} aborted by its ${gate} gate at wave ${rollout.current_wave}: ${reason}${undo ? `; undo ${undo} sent` : ""}`,
    rollout_id: rollout.rollout_id,
    gate,
    reason,
    targets: rollout.target_count,
    waves: rollout.current_wave,
    errors: rollout.errors,
    max_errors: rollout.max_errors,
    touched: state.touched,
    unhealthy: state.unhealthy,
    threshold: state.threshold,
    undo,
    sample: sample.slice(0, ROLLOUT_ALERT_SAMPLE),
    at: new Date(at).toISOString(),
    source: "gse-control/rollouts",
  };
}
