/**
 * How `plan`, `apply` and `applies` print (docs/desired-state.md §CLI): a plan as `terraform plan`
 * prints one (`+ create`, `~ update`, `- delete` per object, its field changes under it, a summary
 * line), an apply as its status and steps, the history as a table. Secrets are never printed: the
 * API masks them, and a secret's change says only `(sensitive)`.
 */
import Table from "cli-table3";
import { createColors } from "picocolors";
import type { FieldChange } from "../lib/config-versions/mask.ts";
import type { ApplyView, PlanChange, PlanView } from "../lib/desired/schemas.ts";

type Colors = ReturnType<typeof createColors>;
type Summary = PlanView["summary"];
type ApplyList = {
  readonly applies: readonly Pick<ApplyView, "apply_id" | "plan_id" | "plat_name" | "status" | "author" | "summary" | "started_at" | "finished_at">[];
  readonly next_cursor?: string | undefined;
};

const show = (value: unknown): string => JSON.stringify(value);

/** One field of an object's change: `+ path = value`, `~ path: from → to`, `- path`. */
export function fieldLine(change: FieldChange, c: Colors): string {
  if (change.change === "added") return c.green(`+ ${change.path} = ${change.secret ? "(sensitive)" : show(change.to)}`);
  if (change.change === "removed") return c.red(`- ${change.path}`);
  return c.yellow(`~ ${change.path}: ${change.secret ? "(sensitive) → (sensitive)" : `${show(change.from)} → ${show(change.to)}`}`);
}

const ACTION_MARK = { create: "+", update: "~", delete: "-" } as const;

/** An object's heading: `+ create streamto bkmonitor_kafka` (with its id where it has one). */
function objectHeading(change: PlanChange, c: Colors): string {
  if (change.action === "unchanged") return "";
  const paint = change.action === "create" ? c.green : change.action === "delete" ? c.red : c.yellow;
  const what = change.kind === "route" ? `route channel ${change.name}` : `streamto ${change.name}${change.id === null ? "" : ` (id ${change.id})`}`;
  return paint(`${ACTION_MARK[change.action]} ${change.action} ${what}`);
}

export const summaryLine = (s: Summary): string => `Plan: ${s.create} to create, ${s.update} to update, ${s.delete} to delete, ${s.unchanged} unchanged.`;

/** The plan as `terraform plan` prints one; objects left unchanged are only counted. */
export function planText(plan: PlanView, color: boolean): string {
  const c = createColors(color);
  const lines = [c.bold(`Plan ${plan.plan_id} for ${plan.plat_name}${plan.prune ? " (prune)" : ""}`), ""];
  const changed = plan.changes.filter((ch) => ch.action !== "unchanged");
  if (changed.length === 0) lines.push("No changes. GSE holds what the document says.", "");
  for (const change of changed) {
    lines.push(objectHeading(change, c));
    // A created or deleted object's fields are all added or all removed: a delete lists none, as terraform's does not.
    if (change.action !== "delete") for (const field of change.changes) lines.push(`    ${fieldLine(field, c)}`);
    lines.push("");
  }
  lines.push(c.bold(summaryLine(plan.summary)));
  if (plan.has_changes) lines.push(`apply it: gse-control apply ${plan.plan_id}`);
  return lines.join("\n");
}

const STEP_COLOR: Record<string, keyof Colors> = {
  APPLIED: "green",
  UNCHANGED: "gray",
  PENDING: "cyan",
  FAILED: "red",
  UNDONE: "yellow",
  UNDO_FAILED: "red",
};

export function applyStatus(status: string, c: Colors): string {
  if (status === "APPLIED") return c.green(status);
  if (status === "BAKING" || status === "APPLYING") return c.cyan(status);
  if (status === "ROLLING_BACK" || status === "ROLLED_BACK") return c.yellow(status);
  return c.red(status);
}

/** An apply: its status, a line per step, what failed, and its bake. */
export function applyText(view: ApplyView, color: boolean): string {
  const c = createColors(color);
  const lines = [`apply ${view.apply_id} of ${view.plan_id} (${view.plat_name}) by ${view.author}: ${applyStatus(view.status, c)}`];
  for (const step of view.steps) {
    const paint = c[STEP_COLOR[step.status] ?? "reset"] as (text: string) => string;
    const id = step.id === null ? "" : ` (id ${step.id})`;
    const version = step.version === null ? "" : ` version ${step.version}`;
    const undo = step.undo_version === null ? "" : `, undo version ${step.undo_version}`;
    const error = step.error ? `: ${step.error.message}` : "";
    lines.push(`  ${step.order}. ${step.action} ${step.kind} ${step.name}${id}  ${paint(step.status)}${version}${undo}${error}`);
  }
  if (view.error) lines.push(c.red(`error: ${view.error.message}`));
  if (view.bake) {
    const { bake } = view;
    const alive = bake.alive_before === null ? "" : `, alive ${bake.alive_before}% at the start${bake.alive_now === null ? "" : `, ${bake.alive_now}% now`}`;
    lines.push(`bake: ${bake.seconds} s until ${bake.until}${alive}`);
    if (bake.tripped) lines.push(c.red(`gate ${bake.tripped.gate} tripped: ${bake.tripped.reason}`));
  }
  return lines.join("\n");
}

const summaryCell = (s: Summary): string => `+${s.create} ~${s.update} -${s.delete}`;

/** The history, newest first. */
export function appliesTable(list: ApplyList, color: boolean): string {
  const c = createColors(color);
  const t = new Table({ head: ["apply", "status", "plat", "changes", "by", "started", "finished"], style: { head: [], border: [] } });
  for (const a of list.applies)
    t.push([a.apply_id, applyStatus(a.status, c), a.plat_name, summaryCell(a.summary), a.author, a.started_at, a.finished_at ?? ""]);
  return [list.applies.length === 0 ? "No applies." : t.toString(), ...(list.next_cursor ? [`more: --cursor ${list.next_cursor}`] : [])].join("\n");
}
