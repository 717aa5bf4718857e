/**
 * The status page's one set of actions: an operator pauses, resumes or aborts a rollout from its row
 * (POST /v1/console/rollouts/{rollout_id}/{action}). The page signs in by HTTP Basic, which a browser
 * also sends with a form another site posts here; a JSON content type is what such a form cannot
 * send (only a script of this origin can, CORS aside), so it is required before anything changes.
 */
import { ValidationError } from "../core/errors.ts";
import { abortRolloutByOperator, pauseRollout, resumeRollout } from "../rollouts/api.ts";
import type { RolloutDeps } from "../rollouts/deps.ts";
import type { RolloutAction, RolloutView } from "../rollouts/schemas.ts";

/** Refuses (400, naming the header) a request whose body is not declared JSON: a cross-site form's. */
export function requireJsonRequest(headers: Readonly<Record<string, string | undefined>> | undefined): void {
  const type = headers?.["content-type"]?.split(";")[0]?.trim().toLowerCase();
  if (type !== "application/json") throw new ValidationError([{ path: "content-type", message: "must be application/json" }]);
}

/** The action, as the rollout routes do it; an abort records who asked (and why, when said). */
export function consoleRolloutAction(deps: RolloutDeps, id: string, action: RolloutAction, who: string, reason?: string): Promise<RolloutView> {
  if (action === "pause") return pauseRollout(deps, id);
  if (action === "resume") return resumeRollout(deps, id);
  return abortRolloutByOperator(deps, id, `aborted by ${who} on the status page${reason ? `: ${reason}` : ""}`);
}
