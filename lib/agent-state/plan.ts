/**
 * A lookup's plan and read steps: which ids this instance's memo answers, then the fleet table
 * (watched agents, polled within the TTL: fleet-state.ts), then the agents table, each read only
 * where a sample says it is worth it (a cold sample), and reading them. Every id is settled once —
 * answered from a fresh copy, or queued for GSE (merge.ts dispatch), which is asked while the rest
 * is still being read.
 */
import { isAskable } from "./fetch.ts";
import { isFleetKeyable, itemFromFleet } from "./fleet-state.ts";
import type { LookupRun } from "./lookup-run.ts";
import { dispatch } from "./merge.ts";
import { COLD_SAMPLE_MAX_FRESH, COLD_SAMPLE_MIN_IDS, coldSample, isFresh } from "./rules.ts";
import { isStorableAgentId, type AgentItem } from "./store.ts";

/** Plans and reads until every id is answered or handed to GSE; GSE may still be answering. */
export async function planAndRead(run: LookupRun): Promise<void> {
  settleFromMemo(run);
  // An id too long to be a DynamoDB key is always asked of GSE and never stored.
  run.toRead = run.ids.filter((id) => !run.settled.has(id) && isStorableAgentId(id));
  if (!run.noCache) for (const id of run.ids) if (!isStorableAgentId(id)) settle(run, id, undefined);
  if (run.noCache) {
    run.pending = run.ids.filter((id) => isAskable(run.source, id));
    // Only to leave what the fleet holds unwritten; GSE is asked meanwhile.
    run.fleetDone = readFleet(run, run.toRead).then(() => undefined);
    readForDirectWrites(run, run.toRead);
    return;
  }
  const rest = await readColdSample(run);
  dispatch(run, false);
  if (rest.length > 0 && !run.stats.cache_unavailable) await readTable(run, rest, true);
  run.stats.read_ms = Math.max(run.stats.read_ms, run.deps.now() - run.startedAt);
}

/**
 * Answered (fresh) or queued for GSE (missing, stale, or every id with no-cache). An id the
 * lookup's source cannot ask stays unanswered: it is unknown.
 */
function settle(run: LookupRun, id: string, item: AgentItem | undefined): void {
  if (run.settled.has(id)) return;
  run.settled.add(id);
  if (item !== undefined) run.previous.set(id, item);
  if (!run.noCache && item !== undefined && isFresh(item, run.startedAt, run.ttlMs)) {
    run.items.set(id, item);
    run.stats.fresh++;
  } else if (isAskable(run.source, id)) run.pending.push(id);
}

function settleFromMemo(run: LookupRun): void {
  const { memo } = run.deps;
  if (run.noCache || !memo) return;
  for (const id of run.ids) {
    const copy = memo.get(id);
    if (copy !== undefined && isFresh(copy, run.startedAt, run.ttlMs)) {
      run.stats.memo_hits++;
      settle(run, id, copy);
    }
  }
}

/**
 * Reads the fleet and the table for a sample of the ids side by side (all of them when few, see
 * COLD_SAMPLE_MIN_IDS). The fleet answers first; the rest of the ids are read of the fleet only if
 * it answered some of the sample, and of the table only if the table held a fresh item of the
 * sample that the fleet did not answer; otherwise the rest go to GSE unread. Returns the ids
 * still to read of the table.
 */
async function readColdSample(run: LookupRun): Promise<readonly string[]> {
  const { toRead, stats } = run;
  const sample = toRead.length <= COLD_SAMPLE_MIN_IDS ? toRead : coldSample(toRead);
  const [fromFleet, fromTable] = await Promise.all([readFleet(run, sample), readQuietly(run, sample)]);
  if (fromTable.found !== undefined) absorb(run, sample, fromTable.found, true);
  const inSample = new Set(sample);
  let rest = toRead.filter((id) => !inSample.has(id));
  if (fromFleet > 0 && rest.length > 0) {
    await readFleet(run, rest);
    rest = rest.filter((id) => !run.settled.has(id));
  }
  if (fromTable.found === undefined) {
    tableUnreadable(run, fromTable.error);
    return [];
  }
  if (rest.length === 0) return [];
  const freshInSample = sample.reduce((n, id) => n + (run.items.has(id) && !run.fleetHeld.has(id) ? 1 : 0), 0);
  if (stats.cache_unavailable || freshInSample > COLD_SAMPLE_MAX_FRESH) return rest;
  stats.cold_guessed = rest.length;
  for (const id of rest) settle(run, id, undefined);
  readForDirectWrites(run, rest);
  return [];
}

/**
 * Watched agents among `ids` whose partition was polled within the TTL: answered from the fleet
 * (unless a no-cache lookup, which asks GSE anyway) and held there, never written to the table.
 * The poll times are read before the agents: a poll marks its partitions only after writing them,
 * so no agent read after can be older than the time it is answered as of. A fleet that cannot be
 * read answers nothing. Returns how many it holds.
 */
async function readFleet(run: LookupRun, ids: readonly string[]): Promise<number> {
  const { fleet, logger } = run.deps;
  const watchable = ids.filter((id) => isFleetKeyable(id) && isAskable(run.source, id));
  if (fleet === undefined || watchable.length === 0 || run.stats.fleet_unavailable) return 0;
  const calls = run.stats.fleet_calls;
  try {
    const polledAt = await fleet.polledAt(calls);
    // No partition polled within the TTL: nothing the fleet holds could answer.
    if (![...polledAt.values()].some((at) => run.startedAt - at < run.ttlMs)) return 0;
    const agents = await fleet.agents(watchable, calls);
    let held = 0;
    for (const agent of agents.values()) {
      const item = itemFromFleet(agent, run.source, polledAt, run.startedAt, run.ttlMs);
      if (item === undefined) continue;
      held++;
      run.fleetHeld.add(item.agent_id);
      if (run.noCache || run.settled.has(item.agent_id)) continue;
      run.settled.add(item.agent_id);
      run.items.set(item.agent_id, item);
      run.deps.memo?.set(item);
      run.stats.fresh++;
      run.stats.fleet++;
    }
    return held;
  } catch (error) {
    run.stats.fleet_unavailable = true;
    logger?.error("fleet table unreadable; answering from the agent cache and GSE", { error: error instanceof Error ? error : String(error) });
    return 0;
  }
}

/** The table's items of `part`, or why they could not be read (the caller decides when to give up on the table). */
function readQuietly(
  run: LookupRun,
  part: readonly string[],
): Promise<{ found: Map<string, AgentItem>; error?: undefined } | { found?: undefined; error: unknown }> {
  return run.deps.store.getMany(part, run.calls).then(
    (found) => ({ found }),
    (error: unknown) => ({ error }),
  );
}

function tableUnreadable(run: LookupRun, error: unknown): void {
  run.readFailed = true;
  run.deps.logger?.error("agent cache unreadable; asking GSE for every id", { error: error instanceof Error ? error : String(error) });
  run.stats.cache_unavailable = true;
  if (!run.noCache) for (const id of run.toRead) settle(run, id, undefined);
}

/**
 * Reads `part` of the table. A table that cannot be read is no reason to fail a read GSE can
 * answer: every id not yet settled then goes to GSE.
 */
function readTable(run: LookupRun, part: readonly string[], forAnswer: boolean): Promise<void> {
  return run.deps.store
    .getMany(part, run.calls, (p, found) => absorb(run, p, found, forAnswer))
    .then(
      // A store that does not report parts as they come is absorbed here, all at once.
      (found) => absorb(run, part, found, forAnswer),
      (error: unknown) => tableUnreadable(run, error),
    );
}

/**
 * Read items of `part`. For the answer, each item settles its id (fresh: answered; else: to GSE).
 * Not for the answer (the ids already went to GSE), items only become `previous`, which direct
 * writes are decided against.
 */
function absorb(run: LookupRun, part: readonly string[], found: ReadonlyMap<string, AgentItem>, forAnswer: boolean): void {
  if (run.readFailed) return;
  for (const id of part) {
    const item = found.get(id);
    if (!forAnswer) {
      if (item) run.previous.set(id, item);
    } else if (!run.settled.has(id)) {
      if (item) run.deps.memo?.set(item);
      settle(run, id, item);
    }
  }
  dispatch(run, false);
}

/**
 * Ids handed to GSE unread: the write-behind (and its fallback) reads the items before writing;
 * direct writes need them too, so they are read meanwhile and merged once in.
 */
function readForDirectWrites(run: LookupRun, part: readonly string[]): void {
  if (run.deps.writeBehind) return;
  run.readDone = readTable(run, part, false).then(() => {
    run.stats.read_ms = Math.max(run.stats.read_ms, run.deps.now() - run.startedAt);
  });
}
