/** Rollout views for tests of what the CLI and the console draw (the shape lib/rollouts answers). */
import type { OutcomeCounts } from "../../lib/commands/schemas.ts";
import type { RolloutView, WaveView } from "../../lib/rollouts/schemas.ts";

export const outcomeCounts = (fields: Partial<OutcomeCounts> = {}): OutcomeCounts => ({
  PENDING: 0,
  SENT: 0,
  FAILED: 0,
  RETRYING: 0,
  REPLIED: 0,
  TIMED_OUT: 0,
  SKIPPED: 0,
  ...fields,
});

/** Wave `index` of `size` agents, in `status`, with these counts (the rest 0). */
export const waveView = (index: number, size: number, status: string, counts: Partial<OutcomeCounts>, extra: Partial<WaveView> = {}): WaveView => ({
  index,
  offset: (index - 1) * size,
  size,
  message_id: `r1.w${index}`,
  status,
  counts: outcomeCounts(counts),
  errors: null,
  version_mismatch: [],
  started_at: "2026-12-03T10:00:00.000Z",
  ended_at: null,
  bake_until: null,
  unhealthy_at_start: 0,
  ...extra,
});

/** r1: 30 agents in linear waves of 10, wave 1 done (one failure), wave 2 running. */
export function rolloutView(fields: Partial<RolloutView> = {}): RolloutView {
  return {
    rollout_id: "r1",
    status: "RUNNING",
    reason: null,
    targets: 30,
    target_query: null,
    template: null,
    strategy: { kind: "linear", wave_size: 10 },
    bake_seconds: 0,
    max_errors: 3,
    errors: 1,
    current_wave: 2,
    waves: [waveView(1, 10, "SUCCEEDED", { REPLIED: 9, FAILED: 1 }), waveView(2, 10, "RUNNING", { PENDING: 4, SENT: 2, REPLIED: 4 })],
    gate: { state: "ok", gate: null, touched: 16, unhealthy: 1, threshold: 3 },
    undo: null,
    expect_version: null,
    expect_probe_version: null,
    start_at: null,
    created_by: "ops",
    created_at: "2026-12-03T10:00:00.000Z",
    updated_at: "2026-12-03T10:01:00.000Z",
    finished_at: null,
    ...fields,
  };
}
