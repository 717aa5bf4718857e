/**
 * A target query (lib/targets/schemas.ts) resolved over the watched fleet (docs/rollouts.md §2):
 * the agent ids a command or rollout snapshots once, at start.
 */
import pLimit from "p-limit";
import { coerce, satisfies, valid } from "semver";
import { ValidationError } from "../core/errors.ts";
import type { FleetAgentRecords } from "../fleet/agents-store.ts";
import { FLEET_PARTITIONS, type FleetAgent } from "../fleet/items.ts";
import { newFleetCalls } from "../fleet/table.ts";
import { classOfAgent } from "../fleet/view-rules.ts";
import type { TargetQuery } from "./schemas.ts";

/** What resolving reads: the fleet table's agent pages (a FleetStore, as lib/fleet/deps.ts fleetDeps builds it). */
export interface TargetDeps {
  readonly fleet: Pick<FleetAgentRecords, "agentPage">;
}

export interface ResolvedTargets {
  /** Sorted, distinct, at most `query.limit`. */
  readonly agent_ids: string[];
  readonly query: TargetQuery;
}

/** The default and largest `limit`: the fleet's design size, twice over. */
export const DEFAULT_TARGET_LIMIT = 200_000;
/** Partitions read at once: the table's read concurrency (FleetTable's), one page after another within each. */
const PARTITION_CONCURRENCY = 16;

type Matchable = Pick<FleetAgent, "status" | "misses" | "status_code" | "status_class" | "stuck_at" | "version" | "bk_cloud_id" | "labels">;

/** The version an agent reports, read as semver: a loose one ("v2.1", "2.1.5.1") is coerced, as lib/fleet/view-rules.ts isOutdated does. */
const semverOf = (version: string | undefined): string | undefined => (version === undefined ? undefined : (valid(version) ?? coerce(version)?.version));

/** The test of one agent against the query's fields, all ANDed; a field the query omits holds for all. */
export function targetMatcher(query: TargetQuery): (agent: Matchable) => boolean {
  const classes = query.status_class === undefined ? undefined : new Set<string>(query.status_class);
  const clouds = query.bk_cloud_id === undefined ? undefined : new Set(query.bk_cloud_id);
  const labels = Object.entries(query.labels ?? {});
  return (agent) => {
    if (classes !== undefined) {
      const statusClass = classOfAgent(agent);
      const inClass =
        (statusClass !== undefined && classes.has(statusClass)) ||
        (classes.has("lost") && agent.status === "lost") ||
        (classes.has("stuck") && agent.stuck_at !== undefined);
      if (!inClass) return false;
    }
    if (query.version !== undefined) {
      // Without a version the heartbeat saw, no range can be said to hold.
      const version = semverOf(agent.version);
      if (version === undefined || !satisfies(version, query.version)) return false;
    }
    if (clouds !== undefined && (agent.bk_cloud_id === undefined || !clouds.has(agent.bk_cloud_id))) return false;
    return labels.every(([key, value]) => agent.labels?.[key] === value);
  };
}

/** The ids among `agents` that match, sorted and distinct, the first `limit` of them. */
export function selectTargets(agents: Iterable<Matchable & Pick<FleetAgent, "agent_id">>, query: TargetQuery): string[] {
  const matches = targetMatcher(query);
  const ids = new Set<string>();
  for (const agent of agents) if (matches(agent)) ids.add(agent.agent_id);
  return [...ids].sort().slice(0, query.limit ?? DEFAULT_TARGET_LIMIT);
}

/**
 * Every watched agent matching `query`: one pass over the fleet's partitions, PARTITION_CONCURRENCY
 * at a time, keeping only the ids that match, so 100,000 agents cost ~64 partitions' pages of
 * reads and no more memory than their ids. No match is a 400 on `target_query`: a command or
 * rollout sent to nobody is a mistake in the query, not a success.
 */
export async function resolveTargets(deps: TargetDeps, query: TargetQuery): Promise<ResolvedTargets> {
  const matches = targetMatcher(query);
  const calls = newFleetCalls();
  const limit = pLimit(PARTITION_CONCURRENCY);
  const perPartition = await Promise.all(
    Array.from({ length: FLEET_PARTITIONS }, (_, partition) =>
      limit(async () => {
        const ids: string[] = [];
        let after: string | undefined;
        do {
          const page = await deps.fleet.agentPage(partition, after === undefined ? {} : { after }, calls);
          for (const agent of page.agents) if (matches(agent)) ids.push(agent.agent_id);
          after = page.after;
        } while (after !== undefined);
        return ids;
      }),
    ),
  );
  const agentIds = [...new Set(perPartition.flat())].sort().slice(0, query.limit ?? DEFAULT_TARGET_LIMIT);
  if (agentIds.length === 0) throw new ValidationError([{ path: "target_query", message: "no agents match target_query" }], "no agents match target_query");
  return { agent_ids: agentIds, query };
}
