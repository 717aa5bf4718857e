/**
 * How far a rollout's wave got, from its command's counts, and whether its undo is still underway:
 * what the CLI's wave line and the console's rollout row both draw. Zod-free (type imports only), so the CLI's `--help` stays quick.
 */
import type { OutcomeCounts } from "../commands/schemas.ts";
import type { WaveView } from "../rollouts/schemas.ts";

export interface WaveProgress {
  readonly size: number;
  /** Not handed to GSE yet. */
  readonly waiting: number;
  /** Handed to GSE at least once. */
  readonly sent: number;
  /** Agents whose outcome will not change any more (SKIPPED included: never sent, and never will be). */
  readonly settled: number;
  /** Delivery failures, timeouts and failing replies: the wave's share of the error budget. */
  readonly failed: number;
}

/**
 * A wave's agents by how far they got, from its command's counts. While the wave's command runs,
 * SENT agents may still be awaiting their reply and FAILED ones may still be retried, so neither
 * is settled (as dispatch's bar, cli/progress.ts: the bar never steps back). Before the wave's
 * command is readable (counts null) every agent is waiting.
 */
export function waveProgress(wave: Pick<WaveView, "size" | "status" | "counts">): WaveProgress {
  const c: OutcomeCounts = wave.counts ?? { PENDING: wave.size, SENT: 0, FAILED: 0, RETRYING: 0, REPLIED: 0, TIMED_OUT: 0, SKIPPED: 0 };
  const running = wave.status === "RUNNING";
  const settled = wave.size - c.PENDING - c.RETRYING - (running ? c.SENT + c.FAILED : 0);
  return {
    size: wave.size,
    waiting: c.PENDING,
    sent: Math.max(0, wave.size - c.PENDING - c.SKIPPED),
    settled: Math.max(0, settled),
    failed: c.FAILED + c.TIMED_OUT,
  };
}

/** An aborted rollout's undo not ended yet: queued (PENDING) or its command running. The rollout is not over until it ends. */
export const undoUnderway = (undo: { readonly status: string } | null): boolean => undo !== null && (undo.status === "PENDING" || undo.status === "RUNNING");
