/** Showing applies: one, or the history newest first (GET /v1/applies). Secrets never appear: steps carry no documents. */
import { NotFoundError } from "../core/errors.ts";
import { validate } from "../http/handler.ts";
import { applyListQuerySchema } from "./queries.ts";
import { changeView, summaryOf } from "./plan.ts";
import type { ApplyItem, DesiredStore } from "./store.ts";
import type { ApplyView } from "./schemas.ts";

const iso = (ms: number | undefined | null): string | null => (ms === undefined || ms === null ? null : new Date(ms).toISOString());

export function applyView(item: ApplyItem): ApplyView {
  return {
    apply_id: item.apply_id,
    plan_id: item.plan_id,
    plat_name: item.plat_name,
    status: item.status,
    author: item.author,
    summary: summaryOf(item.steps),
    steps: [...item.steps],
    error: item.error,
    bake: item.bake
      ? {
          seconds: item.bake.seconds,
          until: new Date(item.bake.until).toISOString(),
          gate: item.bake.gate,
          alive_before: item.bake.alive_before,
          alive_now: item.bake.alive_now,
          tripped: item.bake.tripped,
        }
      : null,
    started_at: new Date(item.started_at).toISOString(),
    finished_at: iso(item.finished_at),
  };
}

/** One apply, with the diff it set out to make: the history is whole without reading its plan. */
export async function getApply(store: DesiredStore, id: string): Promise<ApplyView> {
  const item = await store.getApply(id);
  if (!item) throw new NotFoundError(`apply ${id} not found`);
  const plan = await store.getPlan(item.plan_id);
  return { ...applyView(item), ...(plan ? { diff: plan.changes.filter((c) => c.action !== "unchanged").map(changeView) } : {}) };
}

export async function listApplies(store: DesiredStore, query: { limit: number; cursor?: string | undefined }) {
  const page = await store.listApplies(query);
  return {
    applies: page.items.map((item) => {
      const v = applyView(item);
      return {
        apply_id: v.apply_id,
        plan_id: v.plan_id,
        plat_name: v.plat_name,
        status: v.status,
        author: v.author,
        summary: v.summary,
        started_at: v.started_at,
        finished_at: v.finished_at,
      };
    }),
    ...(page.cursor ? { next_cursor: page.cursor } : {}),
  };
}

/** GET /v1/applies?limit=&cursor=. Here, not in lib/desired/api.ts, so apply_history does not bundle the YAML parser (≈115 kB). */
export const listAppliesFromQuery = (store: DesiredStore, query: Readonly<Record<string, string | undefined>>) =>
  listApplies(store, validate(applyListQuerySchema, query));
