/**
 * A lookup's plan and read steps: which ids this instance's memo answers, whether the table is
 * worth reading (a cold sample), and reading it. Every id is settled once — answered from a fresh
 * copy, or queued for GSE (merge.ts dispatch), which is asked while the rest is still being read.
 */
import { isAskable } from "./fetch.ts";
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
 * With many ids to read, reads a sample first (see COLD_SAMPLE_MIN_IDS); when none of it is
 * fresh, the rest go to GSE unread. Returns the ids still to read.
 */
async function readColdSample(run: LookupRun): Promise<readonly string[]> {
  const { toRead, stats } = run;
  if (toRead.length <= COLD_SAMPLE_MIN_IDS) return toRead;
  const sample = coldSample(toRead);
  await readTable(run, sample, true);
  const inSample = new Set(sample);
  const rest = toRead.filter((id) => !inSample.has(id));
  const freshInSample = sample.reduce((n, id) => n + (run.items.has(id) ? 1 : 0), 0);
  if (stats.cache_unavailable || freshInSample > COLD_SAMPLE_MAX_FRESH) return rest;
  stats.cold_guessed = rest.length;
  for (const id of rest) settle(run, id, undefined);
  readForDirectWrites(run, rest);
  return [];
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
      (error: unknown) => {
        run.readFailed = true;
        run.deps.logger?.error("agent cache unreadable; asking GSE for every id", { error: error instanceof Error ? error : String(error) });
        run.stats.cache_unavailable = true;
        if (!run.noCache) for (const id of run.toRead) settle(run, id, undefined);
      },
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
