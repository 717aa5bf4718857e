/**
 * An operator's labels on watched agents (docs/rollouts.md §2): what a target query's `labels`
 * matches. A label write touches `labels` alone (FleetAgentRecords.writeLabels), so it and the
 * heartbeat's conditional writes never undo each other.
 */
import { NotFoundError, ValidationError } from "../core/errors.ts";
import { MAX_LABELS_PER_AGENT, type Labels } from "../targets/labels.ts";
import type { PatchLabelsBody } from "./schemas.ts";
import { newFleetCalls } from "./store.ts";
import type { FleetDeps } from "./service.ts";

export interface LabelsAnswer {
  readonly agent_id: string;
  readonly labels: Labels;
}

/** Bounded: each retry follows a label write that won, so N writers to one agent at once all land within N attempts. */
const PATCH_ATTEMPTS = 10;

const notWatched = (agentId: string) => new NotFoundError(`agent ${agentId} is not watched by the fleet`);

/** Replaces the agent's labels with `labels`. */
export async function putLabels(deps: Pick<FleetDeps, "store">, agentId: string, labels: Labels): Promise<LabelsAnswer> {
  const result = await deps.store.writeLabels(agentId, labels, newFleetCalls());
  if (result === "absent") throw notWatched(agentId);
  return { agent_id: agentId, labels };
}

/**
 * Sets some labels and removes others, keeping the rest: a read, then a write conditional on the
 * labels' own count of writes, so two concurrent changes of different keys both stay.
 */
export async function patchLabels(deps: Pick<FleetDeps, "store">, agentId: string, change: PatchLabelsBody): Promise<LabelsAnswer> {
  const calls = newFleetCalls();
  for (let attempt = 0; attempt < PATCH_ATTEMPTS; attempt++) {
    const agent = await deps.store.getAgent(agentId, calls);
    if (agent === undefined) throw notWatched(agentId);
    const labels: Record<string, string> = { ...agent.labels, ...change.set };
    for (const key of change.remove ?? []) delete labels[key];
    if (Object.keys(labels).length > MAX_LABELS_PER_AGENT) {
      throw new ValidationError([{ path: "set", message: `the agent would have more than ${MAX_LABELS_PER_AGENT} labels` }]);
    }
    const result = await deps.store.writeLabels(agentId, labels, calls, agent.labels_rev ?? 0);
    if (result === "absent") throw notWatched(agentId);
    if (result === "written") return { agent_id: agentId, labels };
  }
  throw new Error(`labels of ${agentId} kept changing under ${PATCH_ATTEMPTS} attempts`);
}
