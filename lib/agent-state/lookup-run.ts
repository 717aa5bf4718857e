/**
 * What a lookup is given (deps, settings, options) and returns (items, stats), and the state one
 * lookup carries between its steps (plan.ts: plan and read; merge.ts: fetch, merge, write back).
 * The steps run interleaved — GSE is asked while the table is still being read — so they share
 * this one record rather than handing values down a pipeline.
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import pLimit, { type LimitFunction } from "p-limit";
import type { Config } from "../core/config.ts";
import type { GseError } from "../core/errors.ts";
import type { MetricsRecorder } from "../core/metrics.ts";
import type { GseClient } from "../gse/client.ts";
import { agentSourceOf } from "./fetch.ts";
import { newFleetStateCalls, type FleetStateCalls, type FleetStateReader } from "./fleet-state.ts";
import type { AgentMemo } from "./memo.ts";
import { newStoreCalls, type AgentItem, type AgentSource, type AgentStore, type StoreCalls } from "./store.ts";
import type { AgentWriteBackJob, WriteBehind } from "./write-back.ts";

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
  /** The heartbeat's state of watched agents; without it every id goes to the table. */
  readonly fleet?: FleetStateReader;
  readonly gse: GseClient;
  readonly now: () => number;
  readonly settings: AgentStateSettings;
  readonly logger?: Logger;
  /** This instance's recent copies; without it every lookup reads the table. */
  readonly memo?: AgentMemo;
  /** Where fetched state goes to be written after the answer; without it, written before. */
  readonly writeBehind?: WriteBehind;
  /** AgentCacheHits and AgentCacheMisses per lookup; dropped when absent. */
  readonly metrics?: MetricsRecorder;
}

export interface LookupOptions {
  /** `Cache-Control: no-cache`: ask GSE for every id; the answer is still written back. */
  readonly noCache?: boolean;
}

export interface LookupStats {
  /** Distinct ids asked. */
  ids: number;
  /** Answered without asking GSE (known and unknown alike), from the memo or the table. */
  fresh: number;
  /** Of those, answered from this instance's memo without reading the table. */
  memo_hits: number;
  /** Of those, answered from the fleet table: watched, and their partition polled within the TTL. */
  fleet: number;
  /** Asked of GSE but not written back: the fleet holds them (a no-cache lookup). */
  fleet_held: number;
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
  /** The fleet table could not be read: the lookup went on as if no agent were watched. */
  fleet_unavailable: boolean;
  /** Time spent reading the table, and from the first GSE call until the last chunk was merged. */
  read_ms: number;
  fetch_ms: number;
  /** Time the write-behind message took to send, after the last chunk: in the answer's path. */
  queue_ms: number;
  dynamo_calls: StoreCalls;
  fleet_calls: FleetStateCalls;
}

export interface Lookup {
  /** Current item per id; ids that could not be asked (2.0 ids on the ESB source) are absent. */
  readonly items: ReadonlyMap<string, AgentItem>;
  readonly stats: LookupStats;
  /** GSE's own "none of these is known" (1011003), when a chunk got it. */
  readonly noneFound?: GseError;
}

/** One lookup in progress. Only its own steps change it; `lookupAgents` makes one per call. */
export interface LookupRun {
  readonly deps: AgentStateDeps;
  readonly ids: readonly string[];
  readonly source: AgentSource;
  readonly noCache: boolean;
  readonly ttlMs: number;
  /** When the lookup began: freshness is judged against it. */
  readonly startedAt: number;
  readonly calls: StoreCalls;
  readonly stats: LookupStats;
  /** The answer so far: the current item per id. */
  readonly items: Map<string, AgentItem>;
  /** Items as stored before this lookup, for deciding what to write. */
  readonly previous: Map<string, AgentItem>;
  /** Ids answered from a copy or handed to GSE; the rest are still waiting for the table. */
  readonly settled: Set<string>;
  /** Ids the fleet answers for (fresh there): answered from it, and never written to the table. */
  readonly fleetHeld: Set<string>;
  /** The fleet read of a no-cache lookup, which only decides what not to write; it never rejects. */
  fleetDone: Promise<void>;
  /** Storable ids the memo did not answer: the ones the table is read for. */
  toRead: readonly string[];
  /** Ids bound for GSE, sent a chunk at a time as soon as a chunk's worth is known. */
  pending: string[];
  /** Bounds the GSE calls in flight. */
  readonly limit: LimitFunction;
  readonly fetches: Promise<void>[];
  readonly writes: Promise<void>[];
  /** What GSE said, for the write-behind: sent once every chunk is in (merge.ts handOn). */
  readonly handed: AgentWriteBackJob["agents"];
  /** When the first chunk was merged: the job's time, so it never replaces a state confirmed after it. */
  handedAt: number | undefined;
  /** Reads of ids handed to GSE unread; a merge waits for them when writes are direct. */
  readDone: Promise<void>;
  /** Set when the table could not be read; later parts of that read are ignored. */
  readFailed: boolean;
  fetchStartedAt: number | undefined;
  noneFound: GseError | undefined;
}

export function newLookupRun(deps: AgentStateDeps, ids: readonly string[], options: LookupOptions): LookupRun {
  const { settings } = deps;
  const calls = newStoreCalls();
  return {
    deps,
    ids,
    source: agentSourceOf(settings.useNewAgentStatusApi),
    noCache: options.noCache ?? false,
    ttlMs: settings.ttlSeconds * 1000,
    startedAt: deps.now(),
    calls,
    stats: {
      ids: ids.length,
      fresh: 0,
      memo_hits: 0,
      fleet: 0,
      fleet_held: 0,
      fetched: 0,
      gse_calls: 0,
      written: 0,
      renewed: 0,
      renew_conflicts: 0,
      write_failures: 0,
      cold_guessed: 0,
      queued: 0,
      cache_unavailable: false,
      fleet_unavailable: false,
      read_ms: 0,
      fetch_ms: 0,
      queue_ms: 0,
      dynamo_calls: calls,
      fleet_calls: newFleetStateCalls(),
    },
    items: new Map(),
    previous: new Map(),
    settled: new Set(),
    fleetHeld: new Set(),
    fleetDone: Promise.resolve(),
    toRead: [],
    pending: [],
    limit: pLimit(settings.concurrency),
    fetches: [],
    writes: [],
    handed: [],
    handedAt: undefined,
    readDone: Promise.resolve(),
    readFailed: false,
    fetchStartedAt: undefined,
    noneFound: undefined,
  };
}
