/**
 * Applies a process left mid-way (a crash, a timeout) converge here, in the scheduled reconcile:
 * an apply APPLYING or ROLLING_BACK for longer than any request runs is rolled back — the step that
 * was in flight counts as applied when GSE holds what it wrote — and a BAKING apply whose chain of
 * ticks broke (no tick looked for a while) gets one queued.
 */
import { storedError } from "../config-versions/change.ts";
import { listedStreamTo, queryStreamTos } from "../gse/objects.ts";
import { queueBakeTick } from "./bake.ts";
import { getPlanItem } from "./plans.ts";
import type { PlannedChange } from "./plan.ts";
import type { ApplyItem, PlanItem } from "./store.ts";
import { appliedDocument, changeOf, createdIds, gseHolds, refOf, rollBack, saveStep, transition, type UndoDeps } from "./undo.ts";

/** Longer than any apply request runs (its function's timeout): an apply still APPLYING after this was left. */
export const STALE_APPLY_MS = 15 * 60_000;
/** A bake with no tick for this many tick periods lost its chain. */
const MISSED_TICKS = 4;

export interface ApplySweep {
  resumed: number;
  ticks: number;
  errors: number;
}

export async function sweepApplies(deps: UndoDeps, scan = 100): Promise<ApplySweep> {
  const out: ApplySweep = { resumed: 0, ticks: 0, errors: 0 };
  const now = deps.now();
  const { items } = await deps.store.listApplies({ limit: scan });
  for (const item of items) {
    try {
      if ((item.status === "APPLYING" || item.status === "ROLLING_BACK") && now - item.started_at > STALE_APPLY_MS) {
        await resumeInterrupted(deps, item);
        out.resumed++;
      } else if (item.status === "BAKING" && item.bake && now - (item.bake.checked_at ?? item.started_at) > MISSED_TICKS * deps.settings.bakeTickMs) {
        await queueBakeTick(deps, item.apply_id, 0);
        out.ticks++;
      }
    } catch (error) {
      out.errors++;
      deps.logger?.error("apply sweep failed for one apply", { apply_id: item.apply_id, error: storedError(error) });
    }
  }
  return out;
}

/** The step in flight when the process stopped took, if GSE holds what it wrote: its id, else undefined. */
async function heldAfter(deps: UndoDeps, plan: PlanItem, item: ApplyItem, change: PlannedChange): Promise<number | undefined> {
  if (change.kind === "streamto" && change.action === "create") {
    const listed = (await queryStreamTos(deps.gse, { platName: plan.plat_name, operator: deps.operator })).map(listedStreamTo);
    return listed.find((s) => s?.streamTo.name === change.name)?.id;
  }
  const ref = refOf({ kind: change.kind, id: change.id, name: change.name });
  return (await gseHolds(deps, plan.plat_name, ref, appliedDocument(change, createdIds(item.steps)))) ? ref.id : undefined;
}

async function resumeInterrupted(deps: UndoDeps, item: ApplyItem): Promise<void> {
  const plan = await getPlanItem(deps.store, item.plan_id);
  let current = item;
  if (current.status === "APPLYING") {
    const inFlight = current.steps.find((s) => s.status === "PENDING");
    if (inFlight) {
      const id = await heldAfter(deps, plan, current, changeOf(plan, inFlight.order));
      if (id !== undefined) current = await saveStep(deps, current, inFlight.order, { status: "APPLIED", id });
    }
    const moved = await transition(deps, current, {
      status: "ROLLING_BACK",
      error: { message: "the apply was interrupted (its process stopped mid-way); what it had applied is undone", kind: "interrupted" },
    });
    if (!moved.won) return;
    current = moved.item;
  }
  deps.logger?.warn("desired apply: resuming an interrupted apply's undo", { apply_id: item.apply_id, status: item.status });
  await rollBack(deps, plan, current, item.author);
}
