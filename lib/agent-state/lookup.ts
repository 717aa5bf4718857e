/**
 * The agent state cache behind our list_agent_state and get_agent_status routes (docs/gse-contract.md §4.1,
 * §4.3). Ids fetched within the TTL are answered from the agents table; the rest are asked of
 * GSE in chunks with bounded concurrency, merged, and written back when something changed. Ids
 * GSE does not know are remembered as unknown for the TTL too. Which GSE call fills the cache
 * follows bk-monitor's USE_GSE_AGENT_STATUS_NEW_API; each route answers in its own shape.
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import pLimit from "p-limit";
import type { Config } from "../core/config.ts";
import { GseError } from "../core/errors.ts";
import type { AgentWriteBackJob, WriteBehind } from "./write-back.ts";
import type { GseClient } from "../gse/client.ts";
import type { AgentMemo } from "./memo.ts";
import {
  GSE_AGENT_NONE_FOUND_CODE,
  type GetAgentStatusData,
  type GetAgentStatusRequest,
  type Host,
  type ListAgentStateData,
  type ListAgentStateRequest,
} from "../gse/schemas.ts";
import { AGENT_STATE_FIELDS, isStorableAgentId, newStoreCalls, type AgentFacts, type AgentItem, type AgentRenewal, type AgentSource, type AgentStore, type StoreCalls } from "./store.ts";
import { chunk } from "../dynamo/batch.ts";

/** How long an item is kept after its last confirmation (DynamoDB TTL): agents gone for long go. */
export const KNOWN_AGENT_RETENTION_SECONDS = 30 * 86_400;
/** Ids GSE does not know are kept a day: enough for the negative cache, not a junk archive. */
export const UNKNOWN_AGENT_RETENTION_SECONDS = 86_400;

const RUNNING_STATUS = 2;

export interface AgentStateSettings {
  readonly ttlSeconds: number;
  readonly chunkSize: number;
  readonly concurrency: number;
  readonly useNewAgentStatusApi: boolean;
}

export const agentStateSettings = (config: Config): AgentStateSettings => ({
  ttlSeconds: config.agentCacheTtlSeconds,
  chunkSize: config.gse.agentChunkSize,
  concurrency: config.gse.concurrency,
  useNewAgentStatusApi: config.gse.useNewAgentStatusApi,
});

export interface AgentStateDeps {
  readonly store: AgentStore;
  readonly gse: GseClient;
  readonly now: () => number;
  readonly settings: AgentStateSettings;
  readonly logger?: Logger;
  /** This instance's recent copies; without it every lookup reads the table. */
  readonly memo?: AgentMemo;
  /** Where fetched state goes to be written after the answer; without it, written before. */
  readonly writeBehind?: WriteBehind;
}

export interface LookupOptions {
  /** `Cache-Control: no-cache`: ask GSE for every id; the answer is still written back. */
  readonly noCache?: boolean;
}

export type { AgentFacts };

export interface LookupStats {
  /** Distinct ids asked. */
  ids: number;
  /** Answered without asking GSE (known and unknown alike), from the memo or the table. */
  fresh: number;
  /** Of those, answered from this instance's memo without reading the table. */
  memo_hits: number;
  /** Asked of GSE. */
  fetched: number;
  /** GSE calls (chunks; the client's own retries not counted). */
  gse_calls: number;
  /** Items written in full (new or changed). */
  written: number;
  /** Unchanged items whose freshness was renewed. */
  renewed: number;
  /** Renewals skipped because the item changed under us (someone else's write is newer). */
  renew_conflicts: number;
  /** Writes that failed; the answer is unaffected, the next call asks GSE again. */
  write_failures: number;
  /**
   * Ids asked of GSE without reading the table, because none of the lookup's sample of the table
   * was fresh: reading the rest would only delay the answer.
   */
  cold_guessed: number;
  /** Agents handed to the write-behind queue (written, renewed or left by the automation function). */
  queued: number;
  /** The table could not be read: every id went to GSE and nothing was written. */
  cache_unavailable: boolean;
  /** Time spent reading the table, and from the first GSE call until the last chunk was merged. */
  read_ms: number;
  fetch_ms: number;
  dynamo_calls: StoreCalls;
}

export interface Lookup {
  /** Current item per id; ids that could not be asked (2.0 ids on the ESB source) are absent. */
  readonly items: ReadonlyMap<string, AgentItem>;
  readonly stats: LookupStats;
  /** GSE's own "none of these is known" (1011003), when a chunk got it. */
  readonly noneFound?: GseError;
}

// ---------------------------------------------------------------------------------------------
// Pure rules
// ---------------------------------------------------------------------------------------------

/** Distinct ids in first-asked order (GSE answers a repeated id once). */
export function uniqueIds(ids: readonly string[]): string[] {
  return [...new Set(ids)];
}

/** `{bk_cloud_id}:{ip}` (docs/gse-contract.md §3.1). */
export const legacyId = (host: Host): string => `${host.bk_cloud_id}:${host.ip}`;

/** The host of a legacy `cloud:ip` id; undefined for a GSE 2.0 id. */
export function parseLegacyId(id: string): Host | undefined {
  const match = /^(-?\d{1,15}):(.+)$/.exec(id);
  if (match?.[1] === undefined || match[2] === undefined) return undefined;
  const cloudId = Number(match[1]);
  return Number.isSafeInteger(cloudId) ? { bk_cloud_id: cloudId, ip: match[2] } : undefined;
}

/** Fresh: confirmed by GSE less than the TTL ago. */
export function isFresh(item: Pick<AgentItem, "fetched_at">, now: number, ttlMs: number): boolean {
  return now - item.fetched_at < ttlMs;
}

/** Ids GSE must be asked about: all of them with no-cache, else those missing or stale. */
export function idsToFetch(ids: readonly string[], cached: ReadonlyMap<string, AgentItem>, now: number, ttlMs: number, noCache: boolean): string[] {
  if (noCache) return [...ids];
  return ids.filter((id) => {
    const item = cached.get(id);
    return item === undefined || !isFresh(item, now, ttlMs);
  });
}

/**
 * A lookup with more ids to read than this reads an evenly spread sample of them first (one
 * BatchGetItem). When none of the sample is fresh, the lookup is cold (ids never asked, or not
 * for a TTL): the rest go to GSE unread, instead of waiting for a table read that would answer
 * "ask GSE" for all or nearly all of them. A fresh id is then asked again only when fresh ones are
 * rare in the request (at 1 % fresh, a third of such requests re-ask that 1 %), and since GSE is
 * asked by the thousand, that costs no extra call. A warm lookup pays one read round more.
 */
export const COLD_SAMPLE_MIN_IDS = 200;
export const COLD_SAMPLE_SIZE = 100;
export const COLD_SAMPLE_MAX_FRESH = 0;

/** `size` ids spread evenly over `ids` (a request's first ids are often one business's hosts). */
export function coldSample(ids: readonly string[], size = COLD_SAMPLE_SIZE): string[] {
  if (ids.length <= size) return [...ids];
  const step = ids.length / size;
  return Array.from({ length: size }, (_, i) => ids[Math.floor(i * step)] as string);
}

const unknownFacts = (source: AgentSource): AgentFacts => ({ known: false, source, alive: false });

/** One entry per asked id: GSE's item (the first, if repeated), or unknown when GSE omitted it. */
export function factsFromListAgentState(asked: readonly string[], data: ListAgentStateData): Map<string, AgentFacts> {
  const answered = new Map<string, ListAgentStateData[number]>();
  for (const state of data) if (!answered.has(state.bk_agent_id)) answered.set(state.bk_agent_id, state);
  return new Map(
    asked.map((id): [string, AgentFacts] => {
      const state = answered.get(id);
      if (state === undefined) return [id, unknownFacts("list_agent_state")];
      return [
        id,
        {
          known: true,
          source: "list_agent_state",
          bk_cloud_id: state.bk_cloud_id,
          version: state.version,
          run_mode: state.run_mode,
          status_code: state.status_code,
          alive: state.status_code === RUNNING_STATUS,
        },
      ];
    }),
  );
}

/**
 * The legacy call reports only `bk_agent_alive` per host (no version, run_mode or status_code),
 * and answers unknown hosts as not alive: that is all an item filled from it holds.
 */
export function factsFromGetAgentStatus(asked: readonly string[], data: GetAgentStatusData): Map<string, AgentFacts> {
  return new Map(
    asked.map((id): [string, AgentFacts] => {
      const host = parseLegacyId(id);
      const key = host === undefined ? id : legacyId(host);
      const entry = Object.hasOwn(data, key) ? data[key] : undefined;
      if (entry === undefined) return [id, unknownFacts("get_agent_status")];
      return [id, { known: true, source: "get_agent_status", bk_cloud_id: entry.bk_cloud_id, alive: entry.bk_agent_alive === 1 }];
    }),
  );
}

const OWN_ATTRIBUTES: ReadonlySet<string> = new Set(["agent_id", ...AGENT_STATE_FIELDS, "fetched_at", "changed_at", "expires_at"]);

/** Attributes of an item this module does not own (a later poller's), kept across rewrites. */
function foreignAttributes(item: AgentItem | undefined): Record<string, unknown> {
  if (item === undefined) return {};
  return Object.fromEntries(Object.entries(item).filter(([key]) => !OWN_ATTRIBUTES.has(key)));
}

export function stateChanged(previous: AgentItem, facts: AgentFacts): boolean {
  return AGENT_STATE_FIELDS.some((field) => previous[field] !== facts[field]);
}

export type WriteBack =
  | { readonly kind: "put"; readonly item: AgentItem }
  | { readonly kind: "renew"; readonly item: AgentItem; readonly renewal: AgentRenewal }
  | { readonly kind: "none"; readonly item: AgentItem };

/**
 * What to store for one id GSE just answered about:
 * - new or changed → the full item (`changed_at` = now);
 * - unchanged → only `fetched_at`/`expires_at`, as a conditional update. Without the renewal the
 *   item would stay stale and every later call would ask GSE again; updating just those two
 *   fields (not the whole item) cannot overwrite a newer state another writer put meanwhile, and
 *   the condition on the `fetched_at` we read makes it a no-op if the item changed or was evicted
 *   (an unconditional update would recreate an evicted item as a stub without state);
 * - unchanged and confirmed less than half a TTL ago (a no-cache call) → nothing: the renewal
 *   would cost a write and buy little freshness.
 */
export function writeBackFor(id: string, facts: AgentFacts, previous: AgentItem | undefined, now: number, ttlMs: number): WriteBack {
  const retention = facts.known ? KNOWN_AGENT_RETENTION_SECONDS : UNKNOWN_AGENT_RETENTION_SECONDS;
  const expiresAt = Math.floor(now / 1000) + retention;
  if (previous === undefined || stateChanged(previous, facts)) {
    const item: AgentItem = {
      ...foreignAttributes(previous),
      agent_id: id,
      known: facts.known,
      source: facts.source,
      ...(facts.bk_cloud_id !== undefined ? { bk_cloud_id: facts.bk_cloud_id } : {}),
      ...(facts.version !== undefined ? { version: facts.version } : {}),
      ...(facts.run_mode !== undefined ? { run_mode: facts.run_mode } : {}),
      ...(facts.status_code !== undefined ? { status_code: facts.status_code } : {}),
      alive: facts.alive,
      fetched_at: now,
      changed_at: now,
      expires_at: expiresAt,
    };
    return { kind: "put", item };
  }
  if (now - previous.fetched_at < ttlMs / 2) return { kind: "none", item: previous };
  return {
    kind: "renew",
    item: { ...previous, fetched_at: now, expires_at: expiresAt },
    renewal: { agent_id: id, seen_fetched_at: previous.fetched_at, fetched_at: now, expires_at: expiresAt },
  };
}

/**
 * list_agent_state's shape: one item per known id in the order asked, echoing the id as asked;
 * unknown ids omitted. Items filled by get_agent_status carry no version, run_mode or
 * status_code; they answer `""`, `-1`, and 2 (alive) or -1 (not alive: which state is unknown).
 */
export function listAgentStateAnswer(ids: readonly string[], items: ReadonlyMap<string, AgentItem>): ListAgentStateData {
  const data: ListAgentStateData = [];
  for (const id of ids) {
    const item = items.get(id);
    if (!item?.known) continue;
    data.push({
      bk_agent_id: id,
      bk_cloud_id: item.bk_cloud_id ?? parseLegacyId(id)?.bk_cloud_id ?? 0,
      version: item.version ?? "",
      run_mode: item.run_mode ?? -1,
      status_code: item.status_code ?? (item.alive ? RUNNING_STATUS : -1),
    });
  }
  return data;
}

/** get_agent_status's shape: every host asked, keyed `cloud:ip`; unknown hosts are not alive. */
export function getAgentStatusAnswer(hosts: readonly Host[], items: ReadonlyMap<string, AgentItem>): GetAgentStatusData {
  const data: GetAgentStatusData = {};
  for (const host of hosts) {
    const key = legacyId(host);
    const item = items.get(key);
    data[key] = { ip: host.ip, bk_cloud_id: host.bk_cloud_id, bk_agent_alive: item?.known && item.alive ? 1 : 0 };
  }
  return data;
}

// ---------------------------------------------------------------------------------------------
// The lookup
// ---------------------------------------------------------------------------------------------

const isNoneFound = (error: unknown): error is GseError =>
  error instanceof GseError && error.kind === "business" && error.gseCode === GSE_AGENT_NONE_FOUND_CODE;

export interface WriteCounts {
  written: number;
  renewed: number;
  renew_conflicts: number;
  write_failures: number;
}

/** Full items and conditional renewals, side by side; what could not be written is counted, not thrown. */
export async function storeWrites(store: AgentStore, puts: readonly AgentItem[], renewals: readonly AgentRenewal[], calls: StoreCalls): Promise<WriteCounts> {
  const [put, renew] = await Promise.all([
    puts.length ? store.putMany(puts, calls) : { failed: 0 },
    renewals.length ? store.renewMany(renewals, calls) : { renewed: 0, conflicts: 0, failed: 0 },
  ]);
  return { written: puts.length - put.failed, renewed: renew.renewed, renew_conflicts: renew.conflicts, write_failures: put.failed + renew.failed };
}

export interface WriteBackResult extends WriteCounts {
  readonly agents: number;
  /** Ids the table had no item for and GSE knows: agents seen for the first time. */
  readonly first_seen: readonly string[];
  /** Items confirmed at or after the job's time (a newer lookup, or this job already applied). */
  readonly superseded: number;
  /** Unchanged and confirmed less than half a TTL before: nothing worth a write. */
  readonly unchanged: number;
  readonly dynamo_calls: StoreCalls;
}

/**
 * Writes facts GSE confirmed at `fetchedAt` over the items as they are now (read first, so a state
 * confirmed later by someone else is left alone); what could not be written is counted.
 */
export async function writeOver(
  store: AgentStore,
  ttlMs: number,
  fetchedAt: number,
  agents: AgentWriteBackJob["agents"],
  calls: StoreCalls,
): Promise<Omit<WriteBackResult, "dynamo_calls">> {
  const current = await store.getMany(
    agents.map((a) => a.agent_id),
    calls,
  );
  const puts: AgentItem[] = [];
  const renewals: AgentRenewal[] = [];
  let superseded = 0;
  let unchanged = 0;
  const firstSeen: string[] = [];
  for (const { agent_id, ...facts } of agents) {
    const item = current.get(agent_id);
    if (item === undefined && facts.known) firstSeen.push(agent_id);
    if (item !== undefined && item.fetched_at >= fetchedAt) {
      superseded++;
      continue;
    }
    const write = writeBackFor(agent_id, facts, item, fetchedAt, ttlMs);
    if (write.kind === "put") puts.push(write.item);
    else if (write.kind === "renew") renewals.push(write.renewal);
    else unchanged++;
  }
  const counts = await storeWrites(store, puts, renewals, calls);
  return { agents: agents.length, first_seen: firstSeen, superseded, unchanged, ...counts };
}

/** A write-back job applied (writeOver); throws when some could not be written, to be retried. */
export async function applyWriteBack(deps: { store: AgentStore; ttlMs: number }, job: AgentWriteBackJob): Promise<WriteBackResult> {
  const calls = newStoreCalls();
  const result = await writeOver(deps.store, deps.ttlMs, job.fetched_at, job.agents, calls);
  // Safe to run again: what was written is superseded on the next delivery.
  if (result.write_failures > 0) throw new Error(`${result.write_failures} of ${job.agents.length} agent items could not be written`);
  return { ...result, dynamo_calls: calls };
}

/**
 * Current state of `ids` (distinct): fresh copies from this instance's memo, fresh items from
 * the table, the rest from GSE. GSE is asked as soon as a chunk's worth of stale ids is known,
 * while the table is still being read, so a cold lookup costs about one GSE round, not a table
 * read plus one. What GSE said goes to the write-behind queue when there is one (written after
 * the answer), else it is written before answering.
 *
 * A table that cannot be read is no reason to fail a read GSE can answer: every id not yet
 * settled then goes to GSE. Written directly, those are not written (without the old items,
 * changes cannot be told); the write-behind reads them itself, so it still writes them. A GSE
 * failure fails the lookup, after what the other chunks fetched has been handed on.
 */
export async function lookupAgents(deps: AgentStateDeps, ids: readonly string[], options: LookupOptions = {}): Promise<Lookup> {
  const { settings, store, memo, writeBehind } = deps;
  const ttlMs = settings.ttlSeconds * 1000;
  const noCache = options.noCache ?? false;
  const source: AgentSource = settings.useNewAgentStatusApi ? "list_agent_state" : "get_agent_status";
  const calls = newStoreCalls();
  const stats: LookupStats = {
    ids: ids.length, fresh: 0, memo_hits: 0, fetched: 0, gse_calls: 0, written: 0, renewed: 0, renew_conflicts: 0, write_failures: 0,
    cold_guessed: 0, queued: 0, cache_unavailable: false, read_ms: 0, fetch_ms: 0, dynamo_calls: calls,
  };
  const startedAt = deps.now();

  const items = new Map<string, AgentItem>();
  /** Items as stored before this lookup, for deciding what to write. */
  const previous = new Map<string, AgentItem>();
  /** Ids answered from a copy or handed to GSE; the rest are still waiting for the table. */
  const settled = new Set<string>();
  // The legacy call addresses hosts, so a 2.0 id cannot be asked through it: it stays unknown.
  const askable = (id: string): boolean => source === "list_agent_state" || parseLegacyId(id) !== undefined;

  let noneFound: GseError | undefined;
  const fetchChunk = async (part: readonly string[]): Promise<Map<string, AgentFacts>> => {
    stats.gse_calls++;
    if (source === "get_agent_status") {
      const hosts = part.map((id) => parseLegacyId(id)).filter((h): h is Host => h !== undefined);
      return factsFromGetAgentStatus(part, await deps.gse.call("get_agent_status", { bk_supplier_account: "0", hosts }));
    }
    try {
      return factsFromListAgentState(part, await deps.gse.call("list_agent_state", { agent_id_list: [...part] }));
    } catch (error) {
      // GSE's answer to a chunk none of whose ids it knows: every id of the chunk is unknown.
      if (!isNoneFound(error)) throw error;
      noneFound = error;
      return factsFromListAgentState(part, []);
    }
  };

  const addCounts = (counts: WriteCounts): void => {
    stats.written += counts.written;
    stats.renewed += counts.renewed;
    stats.renew_conflicts += counts.renew_conflicts;
    stats.write_failures += counts.write_failures;
  };
  const writeDirectly = async (puts: AgentItem[], renewals: AgentRenewal[]): Promise<void> => {
    try {
      addCounts(await storeWrites(store, puts, renewals, calls));
    } catch (error) {
      stats.write_failures += puts.length + renewals.length;
      deps.logger?.error("agent cache write failed", { error: error instanceof Error ? error : String(error) });
    }
  };

  // Ids asked of GSE unread (no-cache, a cold sample) are read meanwhile when writes are direct.
  let readDone: Promise<void> = Promise.resolve();
  const writes: Promise<void>[] = [];
  const merge = async (facts: ReadonlyMap<string, AgentFacts>): Promise<void> => {
    await readDone;
    const now = deps.now();
    const puts: AgentItem[] = [];
    const renewals: AgentRenewal[] = [];
    const handed: AgentWriteBackJob["agents"] = [];
    for (const [id, fact] of facts) {
      const write = writeBackFor(id, fact, previous.get(id), now, ttlMs);
      items.set(id, write.item);
      if (!isStorableAgentId(id)) continue;
      memo?.set(write.item);
      if (writeBehind) handed.push({ agent_id: id, ...fact });
      else if (write.kind === "put") puts.push(write.item);
      else if (write.kind === "renew") renewals.push(write.renewal);
    }
    // Written while other chunks are still with GSE; a cache write never fails the answer.
    if (writeBehind && handed.length > 0) {
      writes.push(
        writeBehind.send(now, handed).then(
          () => void (stats.queued += handed.length),
          async (error: unknown) => {
            deps.logger?.warn("write-behind queue unavailable; writing the agent cache directly", { error: error instanceof Error ? error : String(error) });
            if (stats.cache_unavailable) {
              stats.write_failures += handed.length;
              return;
            }
            // What the write-back job would do, done here: read the items as they are now, then write.
            try {
              addCounts(await writeOver(store, ttlMs, now, handed, calls));
            } catch (writeError) {
              stats.write_failures += handed.length;
              deps.logger?.error("agent cache write failed", { error: writeError instanceof Error ? writeError : String(writeError) });
            }
          },
        ),
      );
    } else if (!writeBehind && !stats.cache_unavailable && (puts.length > 0 || renewals.length > 0)) {
      writes.push(writeDirectly(puts, renewals));
    }
  };

  const limit = pLimit(settings.concurrency);
  const fetches: Promise<void>[] = [];
  let fetchStartedAt: number | undefined;
  let pending: string[] = [];
  const dispatch = (all: boolean): void => {
    while (pending.length >= settings.chunkSize || (all && pending.length > 0)) {
      const part = pending.slice(0, settings.chunkSize);
      pending = pending.slice(settings.chunkSize);
      fetchStartedAt ??= deps.now();
      stats.fetched += part.length;
      fetches.push(limit(async () => merge(await fetchChunk(part))));
    }
  };
  const settle = (id: string, item: AgentItem | undefined): void => {
    if (settled.has(id)) return;
    settled.add(id);
    if (item !== undefined) previous.set(id, item);
    if (!noCache && item !== undefined && isFresh(item, startedAt, ttlMs)) {
      items.set(id, item);
      stats.fresh++;
    } else if (askable(id)) pending.push(id);
  };

  if (!noCache && memo) {
    for (const id of ids) {
      const copy = memo.get(id);
      if (copy !== undefined && isFresh(copy, startedAt, ttlMs)) {
        stats.memo_hits++;
        settle(id, copy);
      }
    }
  }
  // An id too long to be a DynamoDB key is always asked of GSE and never stored.
  const toRead = ids.filter((id) => !settled.has(id) && isStorableAgentId(id));
  if (!noCache) for (const id of ids) if (!isStorableAgentId(id)) settle(id, undefined);

  /**
   * Reads `part` of the table. For the answer, each item settles its id (fresh: answered; else:
   * to GSE). Not for the answer (the ids already went to GSE), items only become `previous`,
   * which direct writes are decided against.
   */
  let readFailed = false;
  const absorb = (part: readonly string[], found: ReadonlyMap<string, AgentItem>, forAnswer: boolean): void => {
    if (readFailed) return;
    for (const id of part) {
      const item = found.get(id);
      if (!forAnswer) {
        if (item) previous.set(id, item);
      } else if (!settled.has(id)) {
        if (item) memo?.set(item);
        settle(id, item);
      }
    }
    dispatch(false);
  };
  const readTable = (part: readonly string[], forAnswer: boolean): Promise<void> =>
    store.getMany(part, calls, (p, found) => absorb(p, found, forAnswer)).then(
      // A store that does not report parts as they come is absorbed here, all at once.
      (found) => absorb(part, found, forAnswer),
      (error: unknown) => {
        readFailed = true;
        deps.logger?.error("agent cache unreadable; asking GSE for every id", { error: error instanceof Error ? error : String(error) });
        stats.cache_unavailable = true;
        if (!noCache) for (const id of toRead) settle(id, undefined);
      },
    );
  /**
   * Ids handed to GSE unread: the write-behind (and its fallback) reads the items before writing;
   * direct writes need them too, so they are read meanwhile and merged once in.
   */
  const readForDirectWrites = (part: readonly string[]): void => {
    if (!writeBehind) readDone = readTable(part, false).then(() => void (stats.read_ms = Math.max(stats.read_ms, deps.now() - startedAt)));
  };

  if (noCache) {
    pending = ids.filter(askable);
    readForDirectWrites(toRead);
  } else {
    let rest = toRead;
    if (toRead.length > COLD_SAMPLE_MIN_IDS) {
      const sample = coldSample(toRead);
      await readTable(sample, true);
      const inSample = new Set(sample);
      rest = toRead.filter((id) => !inSample.has(id));
      const freshInSample = sample.reduce((n, id) => n + (items.has(id) ? 1 : 0), 0);
      if (!stats.cache_unavailable && freshInSample <= COLD_SAMPLE_MAX_FRESH) {
        stats.cold_guessed = rest.length;
        for (const id of rest) settle(id, undefined);
        readForDirectWrites(rest);
        rest = [];
      }
    }
    dispatch(false);
    if (rest.length > 0 && !stats.cache_unavailable) await readTable(rest, true);
    stats.read_ms = Math.max(stats.read_ms, deps.now() - startedAt);
  }
  dispatch(true);

  const fetched = await Promise.allSettled(fetches);
  if (fetchStartedAt !== undefined) stats.fetch_ms = deps.now() - fetchStartedAt;
  await Promise.all(writes);
  deps.logger?.info("agent state lookup", { source, no_cache: noCache, duration_ms: deps.now() - startedAt, ...stats });
  const failed = fetched.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) throw failed.reason;
  return { items, stats, ...(noneFound ? { noneFound } : {}) };
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
    throw noneFound ?? new GseError("list_agent_state", "business", "no agent found", { gseCode: GSE_AGENT_NONE_FOUND_CODE, retryable: false, outcome: "rejected" });
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
