/**
 * Upstream plugin replies (§5.4): after a delivered dispatch, the simulated plugin answers through
 * GSE, which POSTs `{message_id, bk_agent_id, content}` to the slot's callback URL. Fire-and-forget:
 * failures are counted, never thrown.
 */
import { Agent, request } from "undici";
import type { SlotCallback } from "../../lib/gse/schemas.ts";

export interface CallbackCounters {
  sent: number;
  failed: number;
  /** Replies dropped because no callback URL was set. */
  skipped: number;
}

export class CallbackSender {
  private readonly dispatcher = new Agent({ connections: 32, connectTimeout: 5_000 });
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly abort = new AbortController();
  private waiters: (() => void)[] = [];
  private pendingCount = 0;
  readonly counters: CallbackCounters = { sent: 0, failed: 0, skipped: 0 };

  constructor(
    private readonly options: {
      readonly url: () => string | null;
      readonly delayMs: () => number;
      readonly log: (line: string) => void;
      /** Called as each reply starts being posted (the delivery timeline's reply_issued_at). */
      readonly onPost?: (reply: SlotCallback) => void;
    },
  ) {}

  get pending(): number {
    return this.pendingCount;
  }

  schedule(replies: readonly SlotCallback[]): void {
    if (replies.length === 0) return;
    const url = this.options.url();
    if (url === null) {
      this.counters.skipped += replies.length;
      return;
    }
    this.pendingCount += replies.length;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      for (const reply of replies) this.track(this.post(url, reply));
    }, this.options.delayMs());
    this.timers.add(timer);
  }

  private track(promise: Promise<void>): void {
    this.inFlight.add(promise);
    void promise.finally(() => {
      this.inFlight.delete(promise);
      this.pendingCount -= 1;
      if (this.pendingCount === 0) {
        const waiters = this.waiters;
        this.waiters = [];
        for (const resolve of waiters) resolve();
      }
    });
  }

  private async post(url: string, reply: SlotCallback): Promise<void> {
    this.options.onPost?.(reply);
    try {
      const response = await request(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(reply),
        dispatcher: this.dispatcher,
        signal: this.abort.signal,
        headersTimeout: 10_000,
        bodyTimeout: 10_000,
      });
      await response.body.dump();
      if (response.statusCode >= 200 && response.statusCode < 300) this.counters.sent += 1;
      else {
        this.counters.failed += 1;
        this.options.log(`callback message_id=${reply.message_id} status=${response.statusCode}`);
      }
    } catch (error) {
      this.counters.failed += 1;
      this.options.log(`callback message_id=${reply.message_id} error=${error instanceof Error ? error.name : "unknown"}`);
    }
  }

  /** Resolves once every scheduled reply has been sent or has failed. */
  idle(): Promise<void> {
    if (this.pendingCount === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  resetCounters(): void {
    this.counters.sent = 0;
    this.counters.failed = 0;
    this.counters.skipped = 0;
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.abort.abort();
    await Promise.allSettled([...this.inFlight]);
    await this.dispatcher.destroy();
    this.pendingCount = 0;
    for (const resolve of this.waiters) resolve();
    this.waiters = [];
  }
}
