/**
 * The agent state cache's rules, pure and without I/O: which ids a lookup asks, when a copy is
 * fresh, how a legacy `cloud:ip` id is read, and what to store for an id GSE just answered about.
 */
import type { Host } from "../gse/schemas.ts";
import { AGENT_STATE_FIELDS, type AgentFacts, type AgentItem, type AgentRenewal } from "./store.ts";

/** How long an item is kept after its last confirmation (DynamoDB TTL): agents gone for long go. */
export const KNOWN_AGENT_RETENTION_SECONDS = 30 * 86_400;
/** Ids GSE does not know are kept a day: enough for the negative cache, not a junk archive. */
export const UNKNOWN_AGENT_RETENTION_SECONDS = 86_400;

/** Distinct ids in first-asked order (GSE answers a repeated id once). */
export function uniqueIds(ids: readonly string[]): string[] {
  return [...new Set(ids)];
}

/** `{bk_cloud_id}:{ip}`, the legacy id get_agent_status keys its answer by. */
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
