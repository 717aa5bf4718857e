/**
 * CONTRACT STUB (docs/desired-state.md §Apply): the apply helper replaces this file with the
 * engine. Its exported names and signatures are the contract the HTTP routes and the CLI build on.
 */
import type { ApplyDeps } from "./deps.ts";
import type { ApplyRequest, ApplyView } from "./schemas.ts";

/**
 * Applies a stored plan: refused (409 PLAN_STALE, with a new plan in its data) when GSE moved since
 * the plan, or when the plan was applied already; otherwise its changes in order through the
 * versioned flow, undone in reverse if one fails (ROLLED_BACK / ROLLBACK_FAILED, one alert); a bake
 * with a gate when asked (BAKING, then APPLIED or rolled back by lib/desired/bake.ts).
 */
export async function applyPlan(_deps: ApplyDeps, _planId: string, _request: ApplyRequest, _author: string): Promise<ApplyView> {
  throw new Error("lib/desired/apply.ts is the apply helper's to build");
}
