/**
 * How the CLI shows a rollout (docs/rollouts.md §5): one line per wave (its bar of sent, settled and
 * failed agents, and its status), the gate and the error budget, and, while `--watch` polls, the same
 * lines redrawn in place on a terminal, or printed when they change otherwise.
 */
import Table from "cli-table3";
import { createColors } from "picocolors";
import { undoUnderway, type WaveProgress, waveProgress } from "../lib/console/wave-progress.ts";
import type { RolloutList, RolloutView, WaveView } from "../lib/rollouts/schemas.ts";

export { waveProgress };

/** Statuses a rollout never leaves. */
export const ROLLOUT_FINAL_STATUSES: ReadonlySet<string> = new Set(["SUCCEEDED", "ABORTED", "CANCELLED"]);

/** A rollout that ended and whose undo (if any) ended too: nothing of it will change any more. */
export const rolloutSettled = (view: RolloutView): boolean => ROLLOUT_FINAL_STATUSES.has(view.status) && !undoUnderway(view.undo);

const BAR_WIDTH = 24;

/** `x` failed, `█` settled otherwise, `▒` sent and not settled, `░` not sent: each proportional to the wave's size. */
export function waveBar(p: WaveProgress, color: boolean, width: number = BAR_WIDTH): string {
  const c = createColors(color);
  // Cumulative boundaries, so the parts always add up to the width.
  const at = (n: number): number => (p.size === 0 ? 0 : Math.round((Math.min(p.size, Math.max(0, n)) / p.size) * width));
  const failedEnd = at(Math.min(p.failed, p.settled));
  const settledEnd = Math.max(failedEnd, at(p.settled));
  const sentEnd = Math.max(settledEnd, at(p.size - p.waiting));
  return `[${c.red("x".repeat(failedEnd))}${c.green("█".repeat(settledEnd - failedEnd))}${c.cyan("▒".repeat(sentEnd - settledEnd))}${"░".repeat(width - sentEnd)}]`;
}

function palette(color: boolean) {
  const c = createColors(color);
  const status = (s: string): string =>
    s === "SUCCEEDED"
      ? c.green(s)
      : s === "ABORTED" || s === "FAILED" || s === "CANCELLED"
        ? c.red(s)
        : s === "PAUSED" || s === "PARTIAL"
          ? c.yellow(s)
          : c.cyan(s);
  return { ...c, status };
}

/** `wave 2  100 agents [██▒▒░░] sent 60 settled 40 failed 3  RUNNING`, and, for a rollout that bakes, until when. */
export function waveLine(wave: WaveView, color: boolean, bakes = true): string {
  const c = palette(color);
  const p = waveProgress(wave);
  const failed = p.failed > 0 ? c.red(`failed ${p.failed}`) : `failed ${p.failed}`;
  const baking = bakes && wave.bake_until ? ` · bake until ${wave.bake_until}` : "";
  return `wave ${wave.index}  ${p.size} agents ${waveBar(p, color)} sent ${p.sent} settled ${p.settled} ${failed}  ${c.status(wave.status)}${baking}`;
}

/** The gate in one line: what it watches, how many of those are unhealthy, and where it trips. */
export function gateLine(gate: RolloutView["gate"], color: boolean): string {
  const c = palette(color);
  const limit = gate.threshold === null ? "no health gate set" : `trips above ${gate.threshold}`;
  const counts = `${gate.unhealthy} unhealthy of ${gate.touched} touched (${limit})`;
  return gate.state === "tripped" ? c.red(`gate TRIPPED (${gate.gate ?? "?"}): ${counts}`) : `gate ok: ${counts}`;
}

/** `errors 3/50`, red past the budget; `errors 3 (no limit)` without one. */
export function errorsText(errors: number, maxErrors: number | null, color: boolean): string {
  const c = palette(color);
  if (maxErrors === null) return `errors ${errors} (no limit)`;
  const text = `errors ${errors}/${maxErrors}`;
  return errors > maxErrors ? c.red(text) : text;
}

/** Waves shown at most: the first ones are summed up beyond it, so a redraw fits on a screen. */
export const WAVES_SHOWN = 12;

/** The rollout as lines: its header, a line per wave (the latest WAVES_SHOWN), the gate, the undo and why it ended. */
export function rolloutLines(view: RolloutView, color: boolean): string[] {
  const c = palette(color);
  const sent = view.waves.reduce((n, w) => n + waveProgress(w).sent, 0);
  const errors = errorsText(view.errors, view.max_errors, color);
  const wave = view.current_wave > 0 ? `, wave ${view.current_wave}` : "";
  const lines = [`rollout ${view.rollout_id}: ${c.status(view.status)}${wave}, ${sent}/${view.targets} agents sent, ${errors}`];
  const hidden = view.waves.slice(0, Math.max(0, view.waves.length - WAVES_SHOWN));
  if (hidden.length > 0) {
    const agents = hidden.reduce((n, w) => n + w.size, 0);
    lines.push(`waves 1–${hidden.length}  ${agents} agents  ${[...new Set(hidden.map((w) => w.status))].join(", ")}`);
  }
  for (const w of view.waves.slice(hidden.length)) lines.push(waveLine(w, color, view.bake_seconds > 0));
  lines.push(gateLine(view.gate, color));
  if (view.undo !== null) lines.push(`undo ${view.undo.message_id}: ${c.status(view.undo.status)}`);
  if (view.reason) lines.push(`reason: ${view.reason}`);
  return lines;
}

export const rolloutText = (view: RolloutView, color: boolean): string => rolloutLines(view, color).join("\n");

/** `rollout list`: one row per rollout, and the cursor of the next page. */
export function rolloutsTable(list: RolloutList, color: boolean): string {
  const c = palette(color);
  const t = new Table({ head: ["rollout", "status", "wave", "targets", "errors", "created", "by"], style: { head: [], border: [] } });
  for (const r of list.rollouts)
    t.push([
      r.rollout_id,
      c.status(r.status),
      r.current_wave > 0 ? String(r.current_wave) : "",
      String(r.targets),
      String(r.errors),
      r.created_at,
      r.created_by,
    ]);
  return [list.rollouts.length === 0 ? "No rollouts." : t.toString(), ...(list.next_cursor ? [`more: --cursor ${list.next_cursor}`] : [])].join("\n");
}

export interface RolloutProgress {
  update(view: RolloutView): void;
  stop(): void;
}

/** On a terminal: the lines redrawn in place (cursor up over the last drawing, clear to the end). */
function redrawn(stream: NodeJS.WritableStream, color: boolean): RolloutProgress {
  let drawn = 0;
  return {
    update(view) {
      const lines = rolloutLines(view, color);
      stream.write(`${drawn > 0 ? `\x1b[${drawn}F\x1b[0J` : ""}${lines.join("\n")}\n`);
      drawn = lines.length;
    },
    stop: () => undefined,
  };
}

/** To a file or a pipe: a line when it differs from what was last printed in its place (a wave's line, the gate's). */
function changedLines(out: (text: string) => void, color: boolean): RolloutProgress {
  const last = new Map<string, string>();
  return {
    update(view) {
      const lines = rolloutLines(view, color);
      const fresh = lines.filter((line) => {
        const key = /^(wave \d+|waves|gate|undo|reason|rollout)/.exec(line)?.[1] ?? line;
        if (last.get(key) === line) return false;
        last.set(key, line);
        return true;
      });
      if (fresh.length > 0) out(`${fresh.join("\n")}\n`);
    },
    stop: () => undefined,
  };
}

const silent: RolloutProgress = { update: () => undefined, stop: () => undefined };

/** `stream` is where to redraw: set only when a person watches a terminal; with `--json` nothing but the final view. */
export function rolloutProgress(options: {
  stream: NodeJS.WritableStream | undefined;
  json: boolean;
  out: (text: string) => void;
  color: boolean;
}): RolloutProgress {
  if (options.stream) return redrawn(options.stream, options.color);
  return options.json ? silent : changedLines(options.out, options.color);
}
