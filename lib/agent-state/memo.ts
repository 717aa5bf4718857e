/**
 * A function instance's own copy of agent items it recently read or wrote, in front of the
 * agents table. A warm Lambda answers a repeated list_agent_state without a DynamoDB round trip:
 * 100 BatchGetItem calls for 10,000 ids cost more than asking GSE itself.
 *
 * The copy is trusted only for `maxAgeMs` after it was taken, whatever the item's freshness:
 * another instance (or the heartbeat) may have written a newer state to the table meanwhile, and
 * this bounds how long such a write can go unseen here. Bounded in entries, least recently used
 * out first, so a Lambda's memory holds it.
 */
import { LRUCache } from "lru-cache";
import type { AgentItem } from "./store.ts";

export interface AgentMemoOptions {
  /** Entries kept; 0 turns the memo off. */
  readonly maxItems: number;
  /** How long a copy is trusted after it was taken; 0 turns the memo off. */
  readonly maxAgeMs: number;
  readonly now: () => number;
}

export class AgentMemo {
  private readonly cache: LRUCache<string, AgentItem> | undefined;

  constructor(options: AgentMemoOptions) {
    if (options.maxItems > 0 && options.maxAgeMs > 0) {
      // Bounded by maxSize at one unit an entry, not by `max`: with `max` lru-cache allocates its
      // arrays for every entry up front, ~11 ms of each cold start at 100,000 (node, 2 cores), and
      // a function instance that answers a few small requests never fills them. lru-cache's own
      // clock is replaced so that tests move time instead of sleeping, and read on every call
      // (ttlResolution 0): by default it keeps a reading until a 1 ms timer clears it, so a copy
      // read in the same tick as a clock step was judged by the time before the step.
      this.cache = new LRUCache<string, AgentItem>({
        maxSize: options.maxItems,
        sizeCalculation: () => 1,
        ttl: options.maxAgeMs,
        ttlResolution: 0,
        perf: { now: options.now },
      });
    }
  }

  get enabled(): boolean {
    return this.cache !== undefined;
  }

  get size(): number {
    return this.cache?.size ?? 0;
  }

  /** The copy of `id`, if one was taken less than maxAge ago. */
  get(id: string): AgentItem | undefined {
    return this.cache?.get(id);
  }

  /** Keeps `item` as the current state of its id; an older copy than the one held is ignored. */
  set(item: AgentItem): void {
    if (!this.cache) return;
    // peek: the set below makes it the most recent anyway; a get would bump it for nothing.
    const held = this.cache.peek(item.agent_id);
    if (held !== undefined && held.fetched_at > item.fetched_at) return;
    this.cache.set(item.agent_id, item);
  }
}
