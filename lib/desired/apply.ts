/**
 * Carrying out a stored plan (docs/desired-state.md §Apply): refused when the plan was applied
 * already or GSE moved since it was made; otherwise its changes in the plan's order, each a
 * versioned config change (version, verify, head move), undone in reverse when one fails, and a
 * bake with a gate when asked (bake.ts). The apply's record says, step by step, what was done.
 */
import { randomUUID } from "node:crypto";
import { addConfig } from "../config-versions/add.ts";
import { applyDocument, storedError } from "../config-versions/apply.ts";
import type { StreamToDocument } from "../config-versions/documents.ts";
import { AppError, ConflictError } from "../core/errors.ts";
import { applyView } from "./applies.ts";
import { aliveShare, queueBakeTick } from "./bake.ts";
import type { ApplyDeps } from "./apply-deps.ts";
import type { PlannedChange } from "./plan.ts";
import { getPlanItem, planAgainstGse, savePlan } from "./plans.ts";
import type { ApplyRequest, ApplyStep, ApplyView, BakeGate, PlanView } from "./schemas.ts";
import { applyPk, DESIRED_RETENTION_SECONDS, META_SK, TTL, type ApplyItem, type PlanItem } from "./store.ts";
import { appliedDocument, createdIds, rollBack, saveStep, transition } from "./undo.ts";

/** GSE no longer holds what the plan was computed from: nothing was written; `data.plan` is a new plan of the same document. */
export class PlanStaleError extends AppError {
  readonly status = 409;
  readonly code = 1640409;
  readonly codeName = "PLAN_STALE";
  override readonly data: { plan: PlanView };

  constructor(planId: string, fresh: PlanView) {
    super(
      `GSE changed since plan ${planId} was made; nothing was applied. Review plan ${fresh.plan_id}, made from the same document just now, and apply that one`,
    );
    this.data = { plan: fresh };
  }
}

const alreadyApplied = (planId: string, applyId: string | undefined): ConflictError =>
  new ConflictError(`plan ${planId} was applied already${applyId ? ` by ${applyId}` : ""}: make a new plan to apply again`, {
    plan_id: planId,
    apply_id: applyId ?? null,
  });

const stepsOf = (changes: readonly PlannedChange[]): ApplyStep[] =>
  changes.map((c) => ({
    order: c.order,
    kind: c.kind,
    name: c.name,
    id: c.id,
    action: c.action,
    status: c.action === "unchanged" ? "UNCHANGED" : "PENDING",
    version: null,
    undo_version: null,
    error: null,
  }));

/**
 * Applies a stored plan: refused (409 PLAN_STALE, with a new plan in its data) when GSE moved since
 * the plan, or (409) when the plan was applied already; otherwise its changes in order through the
 * versioned flow, undone in reverse if one fails (ROLLED_BACK / ROLLBACK_FAILED, one alert); a bake
 * with a gate when asked (BAKING, then APPLIED or rolled back by lib/desired/bake.ts).
 */
export async function applyPlan(deps: ApplyDeps, planId: string, request: ApplyRequest, author: string): Promise<ApplyView> {
  const plan = await getPlanItem(deps.store, planId);
  if (plan.apply_id !== undefined) throw alreadyApplied(planId, plan.apply_id);
  const fresh = await planAgainstGse(deps, plan.document);
  // The plan of GSE as it is now was just computed: stored as the new plan, not read and computed again.
  if (fresh.state_hash !== plan.state_hash) throw new PlanStaleError(planId, await savePlan(deps, fresh, author, plan.source));

  const hasChanges = plan.changes.some((c) => c.action !== "unchanged");
  const bakeSeconds = hasChanges ? (request.bake_seconds ?? 0) : 0;
  // The baseline is the fleet before any write; a gate whose labels match no agent refuses here (400), before GSE is touched.
  const gate: BakeGate | null = bakeSeconds > 0 ? (request.gate ?? null) : null;
  const aliveBefore = gate ? await aliveShare(deps, gate) : null;

  let item = await startApply(deps, plan, author);
  item = await carryOut(deps, plan, item, author);
  if (item.status === "ROLLING_BACK") return applyView(await rollBack(deps, plan, item, author));
  return applyView(await settle(deps, plan, item, { seconds: bakeSeconds, gate, aliveBefore }));
}

/** The apply's record, with the plan marked as taken by it, in one transaction. */
async function startApply(deps: ApplyDeps, plan: PlanItem, author: string): Promise<ApplyItem> {
  const applyId = `apply-${(deps.newId ?? randomUUID)()}`;
  const now = deps.now();
  const item: ApplyItem = {
    pk: applyPk(applyId),
    sk: META_SK,
    apply_id: applyId,
    plan_id: plan.plan_id,
    plat_name: plan.plat_name,
    status: "APPLYING",
    rev: 0,
    author,
    steps: stepsOf(plan.changes),
    error: null,
    bake: null,
    started_at: now,
    [TTL]: Math.floor(now / 1000) + DESIRED_RETENTION_SECONDS,
  };
  if (!(await deps.store.createApply(item))) throw alreadyApplied(plan.plan_id, (await deps.store.getPlan(plan.plan_id))?.apply_id);
  deps.logger?.info("desired apply started", { apply_id: applyId, plan_id: plan.plan_id, plat_name: plan.plat_name });
  return item;
}

/** Each change in order; the first that fails is recorded FAILED and the apply left ROLLING_BACK for the undo. */
async function carryOut(deps: ApplyDeps, plan: PlanItem, start: ApplyItem, author: string): Promise<ApplyItem> {
  let item = start;
  for (const change of plan.changes) {
    if (change.action === "unchanged") continue;
    let done: { id: number; version: number | null };
    try {
      done = await applyChange(deps, item, change, author);
    } catch (error) {
      deps.logger?.warn("desired apply: a change failed; undoing what was applied", {
        apply_id: item.apply_id,
        step: change.order,
        object: `${change.kind} ${change.name}`,
        error: storedError(error),
      });
      const failed = await saveStep(deps, item, change.order, { status: "FAILED", error: storedError(error) });
      return (await transition(deps, failed, { status: "ROLLING_BACK", error: storedError(error) })).item;
    }
    item = await saveStep(deps, item, change.order, { status: "APPLIED", id: done.id, version: done.version });
  }
  return item;
}

/**
 * One change as a versioned config change: a new stream_to by add_streamto (GSE gives its id),
 * anything else as the whole document its object must hold (applyDocument sends only the difference).
 */
async function applyChange(deps: ApplyDeps, item: ApplyItem, change: PlannedChange, author: string): Promise<{ id: number; version: number | null }> {
  const context = { author, idempotencyKey: `${item.apply_id}#${change.order}` };
  if (change.kind === "streamto" && change.action === "create") {
    const doc = change.after as StreamToDocument;
    const data = (await addConfig(
      deps.configs,
      "add_streamto",
      {
        metadata: { plat_name: doc.plat_name, ...(doc.label ? { label: doc.label } : {}) },
        operation: { operator_name: deps.operator },
        stream_to: doc.stream_to,
      },
      context,
    )) as { stream_to_id: number };
    const head = await deps.configs.store.getHead({ kind: "streamto", id: data.stream_to_id });
    return { id: data.stream_to_id, version: head?.current_version ?? null };
  }
  // A route's stream_tos created by this apply get their ids from the steps before it.
  const document = appliedDocument(change, createdIds(item.steps));
  const ref = { kind: change.kind, id: change.id as number };
  const version = await applyDocument(deps.configs, ref, document, context, {
    operation: "desired.apply",
    request: { apply_id: item.apply_id, plan_id: item.plan_id },
  });
  return { id: ref.id, version: version.version };
}

/** Every change made: BAKING with the gate's baseline and the first tick queued, or APPLIED and the platform's last applied document. */
async function settle(
  deps: ApplyDeps,
  plan: PlanItem,
  item: ApplyItem,
  bake: { seconds: number; gate: BakeGate | null; aliveBefore: number | null },
): Promise<ApplyItem> {
  const now = deps.now();
  if (bake.seconds > 0) {
    const until = now + bake.seconds * 1000;
    const { item: baking } = await transition(deps, item, {
      status: "BAKING",
      bake: { seconds: bake.seconds, until, gate: bake.gate, alive_before: bake.aliveBefore, alive_now: bake.aliveBefore, tripped: null },
    });
    await queueBakeTick(deps, item.apply_id, Math.min(deps.settings.bakeTickMs, until - now));
    deps.logger?.info("desired apply baking", { apply_id: item.apply_id, until: new Date(until).toISOString() });
    return baking;
  }
  const { item: applied } = await transition(deps, item, { status: "APPLIED", finished_at: now });
  await deps.store.putLastApplied({ plat_name: plan.plat_name, apply_id: item.apply_id, plan_id: plan.plan_id, document: plan.document, applied_at: now });
  deps.logger?.info("desired apply applied", { apply_id: item.apply_id, plan_id: plan.plan_id });
  return applied;
}
