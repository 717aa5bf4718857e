/**
 * Making and showing plans (docs/desired-state.md): read what GSE holds now for the document's
 * platform, compute the plan, store it with the state's hash. A plan changes nothing in GSE.
 */
import { randomUUID } from "node:crypto";
import type { Logger } from "@aws-lambda-powertools/logger";
import { NotFoundError, ValidationError } from "../core/errors.ts";
import type { GseClient } from "../gse/client.ts";
import { changeView, computePlan, summaryOf } from "./plan.ts";
import { readState, stateHash } from "./state.ts";
import { DESIRED_RETENTION_SECONDS, type DesiredStore, META_SK, type PlanItem, planPk, TTL } from "./store.ts";
import type { DesiredDocument, PlanView } from "./schemas.ts";

/** What making a plan needs; an apply needs more (apply.ts). */
export interface PlanDeps {
  readonly gse: GseClient;
  readonly store: DesiredStore;
  /** GSE's operator_name for reads. */
  readonly operator: string;
  readonly now: () => number;
  readonly newId?: () => string;
  readonly logger?: Logger;
}

/** The channels a plan of `doc` reads: the document's, and with prune those the last applied document named. */
async function channelsToRead(deps: PlanDeps, doc: DesiredDocument): Promise<{ ids: number[]; lastApplied: number[] }> {
  const last = doc.prune ? await deps.store.getLastApplied(doc.plat_name) : undefined;
  const lastApplied = last ? last.document.routes.filter((r) => r.absent !== true).map((r) => r.channel_id) : [];
  return { ids: [...new Set([...doc.routes.map((r) => r.channel_id), ...lastApplied])], lastApplied };
}

/** A plan computed against GSE as it is now, not yet stored; its `state_hash` says what GSE held. */
export type ComputedPlan = Omit<PlanItem, "plan_id" | "pk" | "created_by" | "source">;

/** Reads what GSE holds for `doc` and plans against it; a refusal is a 400 naming each problem. */
export async function planAgainstGse(deps: PlanDeps, doc: DesiredDocument): Promise<ComputedPlan> {
  const { ids, lastApplied } = await channelsToRead(deps, doc);
  const state = await readState(deps.gse, doc.plat_name, ids, deps.operator);
  const outcome = computePlan(doc, state, lastApplied);
  if (!outcome.ok) throw new ValidationError(outcome.problems, `the plan is refused: ${outcome.problems.map((p) => p.message).join("; ")}`);
  const now = deps.now();
  return {
    sk: META_SK,
    plat_name: doc.plat_name,
    prune: doc.prune,
    document: doc,
    channel_ids: ids,
    state_hash: stateHash(state),
    changes: outcome.changes,
    created_at: now,
    [TTL]: Math.floor(now / 1000) + DESIRED_RETENTION_SECONDS,
  };
}

/** Plans `doc` against GSE now and stores the plan. */
export async function createPlan(deps: PlanDeps, doc: DesiredDocument, author: string, source: "request" | "drift" = "request"): Promise<PlanView> {
  return savePlan(deps, await planAgainstGse(deps, doc), author, source);
}

/** Stores a plan computed by planAgainstGse under a new id. */
export async function savePlan(deps: PlanDeps, item: ComputedPlan, author: string, source: "request" | "drift"): Promise<PlanView> {
  const planId = `plan-${(deps.newId ?? randomUUID)()}`;
  const stored: PlanItem = { ...item, pk: planPk(planId), plan_id: planId, created_by: author, source };
  await deps.store.putPlan(stored);
  deps.logger?.info("plan made", { plan_id: planId, plat_name: item.plat_name, source, summary: summaryOf(stored.changes) });
  return planView(stored);
}

export async function getPlanItem(store: DesiredStore, id: string): Promise<PlanItem> {
  const item = await store.getPlan(id);
  if (!item) throw new NotFoundError(`plan ${id} not found`);
  return item;
}

export const getPlan = async (store: DesiredStore, id: string): Promise<PlanView> => planView(await getPlanItem(store, id));

export function planView(item: PlanItem): PlanView {
  const summary = summaryOf(item.changes);
  return {
    plan_id: item.plan_id,
    plat_name: item.plat_name,
    source: item.source,
    prune: item.prune,
    state_hash: item.state_hash,
    has_changes: summary.create + summary.update + summary.delete > 0,
    summary,
    changes: item.changes.map(changeView),
    created_by: item.created_by,
    created_at: new Date(item.created_at).toISOString(),
    apply_id: item.apply_id ?? null,
  };
}
