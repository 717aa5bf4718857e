/**
 * The agent state cache behind our list_agent_state and get_agent_status routes. Ids fetched
 * within the TTL are answered from the agents table; the rest are asked of GSE in chunks with
 * bounded concurrency, merged, and written back when something changed. Ids GSE does not know
 * are remembered as unknown for the TTL too. Which GSE call fills the cache follows bk-monitor's
 * USE_GSE_AGENT_STATUS_NEW_API; each route answers in its own shape (answers.ts).
 *
 * A lookup's steps: plan and read (plan.ts), fetch, merge and write back (merge.ts, fetch.ts,
 * writes.ts); their shared state is lookup-run.ts.
 */
import { GseError } from "../core/errors.ts";
import {
  GSE_AGENT_NONE_FOUND_CODE,
  type GetAgentStatusData,
  type GetAgentStatusRequest,
  type ListAgentStateData,
  type ListAgentStateRequest,
} from "../gse/schemas.ts";
import { getAgentStatusAnswer, listAgentStateAnswer } from "./answers.ts";
import { newLookupRun, type AgentStateDeps, type Lookup, type LookupOptions, type LookupRun, type LookupStats } from "./lookup-run.ts";
import { dispatch, handOn } from "./merge.ts";
import { planAndRead } from "./plan.ts";
import { legacyId, uniqueIds } from "./rules.ts";

/**
 * Current state of `ids` (distinct): fresh copies from this instance's memo, fresh items from
 * the table, the rest from GSE. GSE is asked as soon as a chunk's worth of stale ids is known,
 * while the table is still being read, so a cold lookup costs about one GSE round, not a table
 * read plus one. What GSE said goes to the write-behind queue when there is one, in one message
 * once every chunk is in (written after the answer), else it is written before answering.
 *
 * A table that cannot be read is no reason to fail a read GSE can answer: every id not yet
 * settled then goes to GSE. Written directly, those are not written (without the old items,
 * changes cannot be told); the write-behind reads them itself, so it still writes them. A GSE
 * failure fails the lookup, after what the other chunks fetched has been handed on.
 */
export async function lookupAgents(deps: AgentStateDeps, ids: readonly string[], options: LookupOptions = {}): Promise<Lookup> {
  const run = newLookupRun(deps, ids, options);
  await planAndRead(run);
  dispatch(run, true);
  return finishLookup(run);
}

/** Waits for every chunk and every write, then answers or throws the first GSE failure. */
async function finishLookup(run: LookupRun): Promise<Lookup> {
  const { deps, stats } = run;
  const fetched = await Promise.allSettled(run.fetches);
  if (run.fetchStartedAt !== undefined) stats.fetch_ms = deps.now() - run.fetchStartedAt;
  handOn(run);
  await Promise.all(run.writes);
  deps.metrics?.add("AgentCacheHits", stats.fresh);
  deps.metrics?.add("AgentCacheMisses", stats.fetched);
  deps.logger?.info("agent state lookup", { source: run.source, no_cache: run.noCache, duration_ms: deps.now() - run.startedAt, ...stats });
  const failed = fetched.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) throw failed.reason;
  return { items: run.items, stats, ...(run.noneFound ? { noneFound: run.noneFound } : {}) };
}

/** Our list_agent_state: GSE's answer shape, and GSE's 1011003 when none of the ids is known. */
export async function listAgentState(
  deps: AgentStateDeps,
  request: ListAgentStateRequest,
  options: LookupOptions = {},
): Promise<{ data: ListAgentStateData; stats: LookupStats }> {
  const ids = uniqueIds(request.agent_id_list);
  const { items, stats, noneFound } = await lookupAgents(deps, ids, options);
  const data = listAgentStateAnswer(ids, items);
  if (data.length === 0) {
    throw (
      noneFound ?? new GseError("list_agent_state", "business", "no agent found", { gseCode: GSE_AGENT_NONE_FOUND_CODE, retryable: false, outcome: "rejected" })
    );
  }
  return { data, stats };
}

/** Our get_agent_status: the legacy shape for every host asked, from the same cache. */
export async function getAgentStatus(
  deps: AgentStateDeps,
  request: GetAgentStatusRequest,
  options: LookupOptions = {},
): Promise<{ data: GetAgentStatusData; stats: LookupStats | undefined }> {
  const ids = uniqueIds(request.hosts.map(legacyId));
  if (ids.length === 0) return { data: {}, stats: undefined };
  const { items, stats } = await lookupAgents(deps, ids, options);
  return { data: getAgentStatusAnswer(request.hosts, items), stats };
}

/** `Cache-Control: no-cache` (any position, any case) asks for an answer straight from GSE. */
export function wantsNoCache(headers: Readonly<Record<string, string | undefined>> | undefined): boolean {
  const value = headers?.["cache-control"];
  if (value === undefined) return false;
  return value.split(",").some((directive) => directive.trim().split("=")[0]?.trim().toLowerCase() === "no-cache");
}
