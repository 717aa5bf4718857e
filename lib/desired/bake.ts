/**
 * The bake after an apply (docs/desired-state.md §Bake): until `bake.until`, each tick looks at the
 * gate — (a) the alive share of the gate's agents must not drop more than max_alive_drop_points
 * below what it was before the apply, (b) every object the apply wrote must still read back as
 * written (no drift) — and undoes the whole apply when one trips. A tick queues the next one
 * (`desired.bake`); every transition is conditional on the apply's rev, so two ticks converge.
 */
import * as z from "zod";
import { jobBody, type JobHandler } from "../automation/jobs.ts";
import { JOB_TYPES } from "../automation/job-types.ts";
import { newFleetCalls } from "../fleet/table.ts";
import { FLEET_PARTITIONS, type FleetAgent } from "../fleet/items.ts";
import { classOfAgent } from "../fleet/view-rules.ts";
import { resolveTargets } from "../targets/resolve.ts";
import type { ApplyDeps } from "./apply-deps.ts";
import { getPlanItem } from "./plans.ts";
import { applyIdSchema, type BakeGate } from "./schemas.ts";
import type { ApplyBake, ApplyItem, PlanItem } from "./store.ts";
import { appliedDocument, changeOf, createdIds, gseHolds, refOf, rollBack, transition } from "./undo.ts";

export const desiredBakeJobSchema = z.object({ type: z.literal(JOB_TYPES.desiredBake), apply_id: applyIdSchema });

/** Alive: the heartbeat saw it running at its last poll (not lost, not suspect, not in another class). */
const isAlive = (agent: FleetAgent): boolean => agent.status === "alive" && agent.misses === 0 && classOfAgent(agent) === "alive";

const points = (alive: number, total: number): number | null => (total === 0 ? null : Math.round((alive / total) * 10_000) / 100);

/**
 * The alive share (points, 0–100) of the gate's agents: those listed, or the watched agents with
 * its labels, or the whole watched fleet. A listed agent the fleet does not watch counts as not
 * alive. Null when there are no agents to count (nothing can drop).
 */
export async function aliveShare(deps: Pick<ApplyDeps, "fleet">, gate: BakeGate): Promise<number | null> {
  const calls = newFleetCalls();
  const ids = gate.agent_id_list ?? (gate.labels ? (await resolveTargets({ fleet: deps.fleet }, { labels: gate.labels })).agent_ids : undefined);
  if (ids !== undefined) {
    const known = await deps.fleet.existing(ids, calls);
    return points([...known.values()].filter(isAlive).length, ids.length);
  }
  const agents = await deps.fleet.agentsOf(
    Array.from({ length: FLEET_PARTITIONS }, (_, p) => p),
    calls,
  );
  return points(agents.filter(isAlive).length, agents.length);
}

/** Queues the bake's next tick `delayMs` from now (SQS delays in whole seconds). */
export async function queueBakeTick(deps: Pick<ApplyDeps, "queue">, applyId: string, delayMs: number): Promise<void> {
  await deps.queue.send({ type: JOB_TYPES.desiredBake, apply_id: applyId }, Math.ceil(Math.max(0, delayMs) / 1000));
}

type Tripped = NonNullable<ApplyBake["tripped"]>;

function aliveRatioTrip(bake: ApplyBake, aliveNow: number | null): Tripped | undefined {
  const gate = bake.gate;
  if (!gate || bake.alive_before === null || aliveNow === null) return undefined;
  const drop = bake.alive_before - aliveNow;
  if (drop <= gate.max_alive_drop_points) return undefined;
  return {
    gate: "alive_ratio",
    reason: `the alive share of the gate's agents fell from ${bake.alive_before} to ${aliveNow} points, a drop of ${Math.round(drop * 100) / 100}, more than ${gate.max_alive_drop_points}`,
  };
}

/** The first object the apply wrote that GSE no longer holds as written (or holds again, deleted). */
async function driftTrip(deps: ApplyDeps, plan: PlanItem, item: ApplyItem): Promise<Tripped | undefined> {
  const ids = createdIds(item.steps);
  for (const step of item.steps) {
    if (step.status !== "APPLIED") continue;
    const written = appliedDocument(changeOf(plan, step.order), ids);
    if (!(await gseHolds(deps, plan.plat_name, refOf(step), written))) {
      const what = written === null ? "exists again after the apply deleted it" : "no longer reads back as the apply wrote it";
      return { gate: "drift", reason: `${step.kind}#${step.id} (${step.name}) ${what}` };
    }
  }
  return undefined;
}

/** One look at a baking apply; undefined when there is nothing more to do, else the delay to the next. */
async function stepBake(deps: ApplyDeps, item: ApplyItem): Promise<{ again: boolean; delayMs?: number }> {
  const plan = await getPlanItem(deps.store, item.plan_id);
  // A bake that tripped and whose undo was cut short (a crash) is taken up again.
  if (item.status === "ROLLING_BACK" && item.bake?.tripped) {
    await rollBack(deps, plan, item, item.author);
    return { again: false };
  }
  if (item.status !== "BAKING" || !item.bake) return { again: false };
  const bake = item.bake;
  const aliveNow = bake.gate ? await aliveShare(deps, bake.gate) : null;
  const tripped = aliveRatioTrip(bake, aliveNow) ?? (await driftTrip(deps, plan, item));
  const now = deps.now();
  if (tripped) {
    const { item: rolling, won } = await transition(deps, item, {
      status: "ROLLING_BACK",
      error: { message: tripped.reason, kind: `gate:${tripped.gate}` },
      bake: { ...bake, alive_now: aliveNow, tripped },
    });
    if (!won) return { again: true };
    deps.logger?.warn("desired apply: bake gate tripped", { apply_id: item.apply_id, gate: tripped.gate, reason: tripped.reason });
    await rollBack(deps, plan, rolling, item.author);
    return { again: false };
  }
  if (now >= bake.until) {
    const { won } = await transition(deps, item, { status: "APPLIED", finished_at: now, bake: { ...bake, alive_now: aliveNow } });
    if (!won) return { again: true };
    await deps.store.putLastApplied({ plat_name: plan.plat_name, apply_id: item.apply_id, plan_id: plan.plan_id, document: plan.document, applied_at: now });
    deps.logger?.info("desired apply baked", { apply_id: item.apply_id, plan_id: item.plan_id });
    return { again: false };
  }
  // Every tick notes when it looked: the reconcile's sweep queues a tick for a bake whose chain of ticks broke.
  await deps.store.updateApply(item, { bake: { ...bake, alive_now: aliveNow, checked_at: now } });
  return { again: false, delayMs: Math.min(deps.settings.bakeTickMs, bake.until - now) };
}

/** One tick of an apply's bake: the delay (ms) to the next one, or undefined when the bake is over (applied or undone). */
export async function bakeTick(deps: ApplyDeps, applyId: string): Promise<number | undefined> {
  // A transition lost to another tick is looked at again on what that tick wrote.
  for (let steps = 0; steps < 4; steps++) {
    const item = await deps.store.getApply(applyId);
    if (!item) return undefined;
    const step = await stepBake(deps, item);
    if (!step.again) return step.delayMs;
  }
  return deps.settings.bakeTickMs;
}

/** `desired.bake`: one tick, and the next queued while the apply bakes. */
export function desiredBakeJob(deps: ApplyDeps): JobHandler {
  return async (job) => {
    const { apply_id } = jobBody(desiredBakeJobSchema, job);
    const delayMs = await bakeTick(deps, apply_id);
    if (delayMs !== undefined) await queueBakeTick(deps, apply_id, delayMs);
  };
}
