/**
 * What an apply and its bake share: the document each step writes, recording a step, and the undo
 * of everything applied so far — in reverse order, each undo a versioned change of its own — that
 * ends ROLLED_BACK (or ROLLBACK_FAILED) with its one alert in the same transaction (the outbox), so
 * a crash can neither lose nor double it.
 */
import { applyDocument, storedError } from "../config-versions/apply.ts";
import { expectationOfDocument, meets, readObject, type ConfigDocument, type ObjectRef, type StreamToDocument } from "../config-versions/documents.ts";
import { deliver } from "../core/outbox.ts";
import { InternalError } from "../core/errors.ts";
import { desiredAlertId, desiredApplyAlert } from "./alerts.ts";
import type { ApplyDeps } from "./apply-deps.ts";
import { resolvedChannel, type PlannedChange, type PlannedRouteDocument } from "./plan.ts";
import type { ApplyStep } from "./schemas.ts";
import type { ApplyChange, ApplyItem, PlanItem } from "./store.ts";

/** A step's record lost to another writer is written again on the fresh item, this many times. */
const STEP_WRITE_ATTEMPTS = 5;

/** What undoing needs: not the fleet (the reconcile's sweep undoes without it). */
export type UndoDeps = Omit<ApplyDeps, "fleet">;

export const changeOf = (plan: PlanItem, order: number): PlannedChange => {
  const change = plan.changes.find((c) => c.order === order);
  if (!change) throw new InternalError(`plan ${plan.plan_id} has no change ${order}`);
  return change;
};

/** Stream_tos this apply created, name → the id GSE gave them: what its routes point at. */
export function createdIds(steps: readonly ApplyStep[]): Map<string, number> {
  const ids = new Map<string, number>();
  for (const s of steps) if (s.kind === "streamto" && s.action === "create" && s.id !== null) ids.set(s.name, s.id);
  return ids;
}

/** The whole document a change brings its object to, every stream_to name resolved to an id. */
export function appliedDocument(change: PlannedChange, ids: ReadonlyMap<string, number>): ConfigDocument {
  if (change.after === null) return null;
  if (change.kind === "streamto") return change.after as StreamToDocument;
  const resolved = resolvedChannel(change.after as PlannedRouteDocument, ids);
  // The plan orders stream_tos before the routes that name them: an unresolved name is a bug.
  if (!resolved) throw new InternalError(`route#${change.name}: a stream_to it names has no id yet`);
  return resolved;
}

/** Whether GSE holds `written` for the object now (null: the object is absent). */
export async function gseHolds(deps: Pick<UndoDeps, "gse" | "operator">, platName: string, ref: ObjectRef, written: ConfigDocument): Promise<boolean> {
  return meets(await readObject(deps.gse, ref, platName, deps.operator), expectationOfDocument(written));
}

export const refOf = (step: Pick<ApplyStep, "kind" | "id" | "name">): ObjectRef => {
  if (step.id === null) throw new InternalError(`${step.kind} ${step.name} has no id`);
  return { kind: step.kind, id: step.id };
};

/** Records one step's outcome; a write lost to another writer (a second bake tick) is made again on what it wrote. */
export async function saveStep(deps: UndoDeps, item: ApplyItem, order: number, fields: Partial<ApplyStep>): Promise<ApplyItem> {
  let current = item;
  for (let attempt = 0; attempt < STEP_WRITE_ATTEMPTS; attempt++) {
    const next = await deps.store.updateApply(current, { steps: current.steps.map((s) => (s.order === order ? { ...s, ...fields } : s)) });
    if (next) return next;
    const fresh = await deps.store.getApply(item.apply_id);
    if (!fresh) throw new InternalError(`apply ${item.apply_id} is gone`);
    current = fresh;
  }
  throw new InternalError(`apply ${item.apply_id}: step ${order} could not be recorded (the apply kept moving)`);
}

/** A status change that must not be lost: another writer's first wins, and it is read back. */
export async function transition(deps: UndoDeps, item: ApplyItem, change: ApplyChange): Promise<{ item: ApplyItem; won: boolean }> {
  const next = await deps.store.updateApply(item, change);
  if (next) return { item: next, won: true };
  const fresh = await deps.store.getApply(item.apply_id);
  if (!fresh) throw new InternalError(`apply ${item.apply_id} is gone`);
  return { item: fresh, won: false };
}

/**
 * Undoes every step still APPLIED, last first: a created object deleted, an updated or deleted one
 * brought back to what GSE held when planned. Then the end, with its alert. `item` is ROLLING_BACK.
 */
export async function rollBack(deps: UndoDeps, plan: PlanItem, item: ApplyItem, author: string): Promise<ApplyItem> {
  let current = item;
  const applied = [...item.steps].filter((s) => s.status === "APPLIED").sort((a, b) => b.order - a.order);
  for (const step of applied) {
    const change = changeOf(plan, step.order);
    const before = change.action === "create" ? null : change.before;
    try {
      const version = await applyDocument(deps.configs, refOf(step), before, undoContext(current, author, step.order), {
        operation: "desired.undo",
        request: { apply_id: current.apply_id, plan_id: current.plan_id },
      });
      current = await saveStep(deps, current, step.order, { status: "UNDONE", undo_version: version.version });
    } catch (error) {
      deps.logger?.warn("desired apply: an undo failed", { apply_id: current.apply_id, step: step.order, error: storedError(error) });
      current = await saveStep(deps, current, step.order, { status: "UNDO_FAILED", error: storedError(error) });
    }
  }
  return endRollBack(deps, current);
}

const undoContext = (item: ApplyItem, author: string, order: number) => ({ author, idempotencyKey: `${item.apply_id}#undo#${order}` });

/** ROLLED_BACK or ROLLBACK_FAILED with the alert, in one outbox transaction; the alert is then sent (or left to the sweep). */
async function endRollBack(deps: UndoDeps, item: ApplyItem): Promise<ApplyItem> {
  const now = deps.now();
  const status = item.steps.some((s) => s.status === "UNDO_FAILED") ? "ROLLBACK_FAILED" : "ROLLED_BACK";
  const { next, write } = deps.store.applyUpdate(item, { status, finished_at: now, alerted_at: now });
  const entry = { alert: { ...desiredApplyAlert(next, now), alert_id: desiredAlertId(item.apply_id) } };
  const outbox = deps.store.outbox;
  const written = await outbox.putWith([write], entry, now);
  if (!written) {
    // Another writer ended it (and alerted) first.
    const fresh = await deps.store.getApply(item.apply_id);
    if (!fresh) throw new InternalError(`apply ${item.apply_id} is gone`);
    return fresh;
  }
  deps.logger?.warn("desired apply rolled back", { apply_id: item.apply_id, plan_id: item.plan_id, status, error: item.error });
  try {
    await deliver(outbox, deps.alerts, entry, deps.now);
  } catch (error) {
    deps.logger?.warn("desired apply alert not published; the outbox sweep will", { apply_id: item.apply_id, error: String(error) });
  }
  return next;
}
