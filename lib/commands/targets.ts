/**
 * A command's targets by query (docs/rollouts.md §2): the watched agents the query picks, resolved
 * once and kept as the command's batches. The same message_id and query again is the same command,
 * whatever the fleet became since: its targets are read back from its batches, not resolved anew.
 */
import { canonicalJson } from "../core/canonical-json.ts";
import { ValidationError } from "../core/errors.ts";
import { resolveTargets, type TargetDeps } from "../targets/resolve.ts";
import type { DispatchBody, DispatchCommandRequest } from "./schemas.ts";
import type { CommandStore } from "./store.ts";

export interface CommandTargetDeps {
  readonly store: Pick<CommandStore, "getCommand" | "batches">;
  /** The fleet a query reads; a caller without it takes id lists only. */
  readonly fleet?: TargetDeps["fleet"] | undefined;
}

export async function commandRequestOf(deps: CommandTargetDeps, body: DispatchBody): Promise<DispatchCommandRequest> {
  const { agent_id_list, target_query, ...rest } = body;
  if ((agent_id_list === undefined) === (target_query === undefined)) {
    const path = agent_id_list === undefined ? "agent_id_list" : "target_query";
    throw new ValidationError([{ path, message: "give the targets as agent_id_list or as target_query, one of the two" }]);
  }
  if (agent_id_list !== undefined) return { ...rest, agent_id_list };
  const query = target_query as NonNullable<typeof target_query>;
  const existing = await deps.store.getCommand(body.message_id);
  if (existing?.target_query !== undefined && canonicalJson(existing.target_query) === canonicalJson(query)) {
    const batches = await deps.store.batches(existing.message_id, existing.body_hash, true);
    return { ...rest, target_query: query, agent_id_list: batches.flatMap((b) => b.agent_ids ?? []) };
  }
  if (!deps.fleet) throw new ValidationError([{ path: "target_query", message: "this entry point takes agent_id_list only" }]);
  // No match is resolveTargets' own 400 on target_query, this body's field.
  const { agent_ids } = await resolveTargets({ fleet: deps.fleet }, query);
  return { ...rest, target_query: query, agent_id_list: agent_ids };
}
