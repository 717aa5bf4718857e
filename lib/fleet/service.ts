/**
 * The fleet registry and fleet view behind the /v1/fleet routes: which agents the heartbeat watches
 * (registered through the API, or seen by another part of the system: registerSeen), and what
 * the last polls said about them.
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import pLimit from "p-limit";
import * as z from "zod";
import { decodeCursor, encodeCursor } from "../dynamo/cursor.ts";
import { NotFoundError } from "../core/errors.ts";
import { classOfAgent, isOutdated, isSuspect, lastSeen, missesOf } from "./view-rules.ts";
import type { historyDataSchema, listAgentsDataSchema, AgentView, ListAgentsQuery, historyQuerySchema } from "./schemas.ts";
import {
  FLEET_PARTITIONS,
  fleetSummarySchema,
  isWatchableAgentId,
  newFleetCalls,
  partitionOf,
  type FleetAgent,
  type FleetCalls,
  type FleetStore,
  type FleetSummary,
  type RegistrationSource,
} from "./store.ts";

export interface FleetDeps {
  readonly store: FleetStore;
  readonly now: () => number;
  readonly settings: FleetSettings;
  readonly logger?: Logger;
}

export interface FleetSettings {
  readonly evictAfterSeconds: number;
  readonly minVersion?: string;
}

export * from "./schemas.ts";

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

/** `partitionPolls`: the polls that answered for the agent's whole partition (`meta`/`polled`), what its misses are counted by between writes. */
export function agentView(agent: FleetAgent, partitionPolledAt: number | undefined, minVersion: string | undefined, partitionPolls?: number): AgentView {
  const statusClass = classOfAgent(agent);
  return {
    agent_id: agent.agent_id,
    status: isSuspect(agent) ? "suspect" : agent.status,
    misses: missesOf(agent, partitionPolls),
    sources: agent.sources,
    registered_at: new Date(agent.registered_at).toISOString(),
    first_seen_at: iso(agent.first_seen_at),
    last_seen: iso(lastSeen(agent, partitionPolledAt)),
    changed_at: new Date(agent.changed_at).toISOString(),
    ...(agent.bk_cloud_id !== undefined ? { bk_cloud_id: agent.bk_cloud_id } : {}),
    ...(agent.version !== undefined ? { version: agent.version } : {}),
    ...(agent.run_mode !== undefined ? { run_mode: agent.run_mode } : {}),
    ...(agent.status_code !== undefined ? { status_code: agent.status_code } : {}),
    ...(statusClass !== undefined ? { status_class: statusClass } : {}),
    ...(agent.transitional_since !== undefined ? { transitional_since: new Date(agent.transitional_since).toISOString() } : {}),
    ...(agent.stuck_at !== undefined ? { stuck_at: new Date(agent.stuck_at).toISOString() } : {}),
    outdated: isOutdated(agent.version, minVersion),
    record: agent.record ?? null,
    labels: agent.labels ?? {},
  };
}

// ---------------------------------------------------------------------------------------------
// Registry
// ---------------------------------------------------------------------------------------------

const REGISTER_CONCURRENCY = 16;

/**
 * Starts watching `ids`: a new agent is added as pending (the next poll asks GSE about it), one
 * watched already only gains `source`. Never resets the state of an agent the heartbeat polls.
 */
export async function registerAgents(
  deps: FleetDeps,
  ids: readonly string[],
  source: RegistrationSource,
  calls: FleetCalls = newFleetCalls(),
  options: { readonly tagKnown?: boolean } = {},
): Promise<{ registered: number; already_watched: number }> {
  const unique = [...new Set(ids)].filter(isWatchableAgentId);
  const existing = await deps.store.existing(unique, calls);
  const now = deps.now();
  const limit = pLimit(REGISTER_CONCURRENCY);
  // Only a source an agent lacks costs a write of its own; new agents go in batches, meanwhile.
  const sourcesAdded = Promise.all(
    unique.flatMap((id) => {
      const known = existing.get(id);
      const tag = known !== undefined && options.tagKnown !== false && !known.sources.includes(source);
      return tag ? [limit(() => deps.store.addSource(id, source, calls))] : [];
    }),
  );
  const added = deps.store.addAgents(
    unique
      .filter((id) => !existing.has(id))
      .map((id) => ({
        agent_id: id,
        registered_at: now,
        sources: [source],
        status: "pending" as const,
        misses: 0,
        changed_at: now,
        rev: 0,
        // Registered but never seen: evicted like any agent unseen for the retention period.
        expires_at: Math.floor(now / 1000) + deps.settings.evictAfterSeconds,
      })),
    calls,
  );
  const [, registered] = await Promise.all([sourcesAdded, added]);
  return { registered, already_watched: unique.length - registered };
}

/**
 * For the parts of the system that see agent ids in passing (commands, APM apps, routes): adds
 * the ones not watched yet, and never fails the caller's own work — a registry write that fails
 * is logged and the ids are simply registered the next time they are seen.
 */
export async function registerSeen(
  deps: FleetDeps,
  ids: readonly string[],
  source: Exclude<RegistrationSource, "api">,
  options: { readonly tagKnown?: boolean } = {},
): Promise<number> {
  try {
    return (await registerAgents(deps, ids, source, newFleetCalls(), options)).registered;
  } catch (error) {
    deps.logger?.warn("fleet registry: could not register seen agents", {
      source,
      ids: ids.length,
      error: error instanceof Error ? error.message : String(error),
    });
    return 0;
  }
}

export async function unregisterAgents(deps: FleetDeps, ids: readonly string[]): Promise<{ unregistered: number; not_watched: number }> {
  const calls = newFleetCalls();
  const unique = [...new Set(ids)];
  // Read consistently and kept before the delete: a poll's mark just written is seen, and a crash in between leaves both (counted once).
  const existing = await deps.store.existing(unique, calls, { consistent: true });
  await deps.store.keepOwedMarks([...existing.values()], deps.now(), calls);
  await deps.store.deleteAgents([...existing.keys()], calls);
  return { unregistered: existing.size, not_watched: unique.length - existing.size };
}

// ---------------------------------------------------------------------------------------------
// Fleet view
// ---------------------------------------------------------------------------------------------

export async function fleetSummary(deps: FleetDeps): Promise<FleetSummary | null> {
  const item = await deps.store.getMeta("summary", newFleetCalls());
  if (item === undefined) return null;
  const parsed = fleetSummarySchema.safeParse(item);
  return parsed.success ? parsed.data : null;
}

const listCursorSchema = z.object({
  p: z
    .int()
    .min(0)
    .max(FLEET_PARTITIONS - 1),
  after: z.string().optional(),
});
const historyCursorSchema = z.object({ before: z.string() });

/** Items read per request at most: a selective filter over a large fleet answers fewer items and a cursor. */
const MAX_ITEMS_READ_PER_REQUEST = 10_000;
const PAGE_ITEMS = 250;

export function matches(view: AgentView, query: ListAgentsQuery): boolean {
  if (query.status !== undefined && view.status !== query.status) return false;
  if (query.class !== undefined && view.status_class !== query.class) return false;
  if (query.version !== undefined && view.version !== query.version) return false;
  if (query.outdated !== undefined && view.outdated !== query.outdated) return false;
  if (query.seen_before !== undefined && (view.last_seen === null || Date.parse(view.last_seen) >= Date.parse(query.seen_before))) return false;
  if (query.seen_after !== undefined && (view.last_seen === null || Date.parse(view.last_seen) <= Date.parse(query.seen_after))) return false;
  if (query.label !== undefined) {
    const at = query.label.indexOf("=");
    if (view.labels?.[query.label.slice(0, at)] !== query.label.slice(at + 1)) return false;
  }
  return true;
}

/**
 * Watched agents matching the filters, in a stable order (by partition, then id), `limit` at a
 * time. last_seen is derived (an alive agent's is its partition's last poll), so every filter is
 * applied here, on the pages read.
 */
export async function listAgents(deps: FleetDeps, query: ListAgentsQuery): Promise<z.infer<typeof listAgentsDataSchema>> {
  const calls = newFleetCalls();
  const cursor = query.cursor === undefined ? { p: 0 } : decodeCursor(listCursorSchema, query.cursor);
  const marks = await deps.store.partitionMarks(calls);
  const agents: AgentView[] = [];
  let partition = cursor.p;
  let after = cursor.after;
  for (let read = 0; partition < FLEET_PARTITIONS && read < MAX_ITEMS_READ_PER_REQUEST; ) {
    const page = await deps.store.agentPage(partition, { ...(after !== undefined ? { after } : {}), limit: PAGE_ITEMS }, calls);
    read += page.agents.length;
    for (const agent of page.agents) {
      const view = agentView(agent, marks.polledAt.get(partition), deps.settings.minVersion, marks.polls.get(partition));
      if (!matches(view, query)) continue;
      agents.push(view);
      if (agents.length === query.limit) {
        return { agents, next_cursor: encodeCursor({ p: partition, after: `agent#${agent.agent_id}` }) };
      }
    }
    if (page.after !== undefined) after = page.after;
    else {
      partition++;
      after = undefined;
    }
  }
  return { agents, next_cursor: partition < FLEET_PARTITIONS ? encodeCursor({ p: partition, ...(after !== undefined ? { after } : {}) }) : null };
}

/** One agent's current state and its transitions, newest first. */
export async function agentHistory(deps: FleetDeps, agentId: string, query: z.infer<typeof historyQuerySchema>): Promise<z.infer<typeof historyDataSchema>> {
  const calls = newFleetCalls();
  const before = query.cursor === undefined ? undefined : decodeCursor(historyCursorSchema, query.cursor).before;
  const [agent, marks, page] = await Promise.all([
    deps.store.getAgent(agentId, calls),
    deps.store.partitionMarks(calls),
    deps.store.history(agentId, { limit: query.limit, ...(before !== undefined ? { before } : {}) }, calls),
  ]);
  if (agent === undefined && page.transitions.length === 0 && before === undefined) {
    throw new NotFoundError(`agent ${agentId} is not watched and has no recorded transitions`);
  }
  return {
    agent:
      agent === undefined ? null : agentView(agent, marks.polledAt.get(partitionOf(agentId)), deps.settings.minVersion, marks.polls.get(partitionOf(agentId))),
    transitions: page.transitions.map((t) => ({ ...t, at: new Date(t.at).toISOString() })),
    next_cursor: page.before === undefined ? null : encodeCursor({ before: page.before }),
  };
}
