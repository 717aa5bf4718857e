/**
 * A command's rollout, decided before anything is written: its batches and how many run at once,
 * the errors it tolerates, the backoff between attempts, and what makes two submissions the same.
 */
import { createHash } from "node:crypto";
import type { DispatchCommandRequest, RolloutLimit } from "./schemas.ts";
import type { CommandSettings } from "./settings.ts";

/** A count, or a percentage of `total` (rounded up for concurrency, down for tolerated errors). */
export function resolveLimit(limit: RolloutLimit, total: number, round: "up" | "down"): number {
  if (typeof limit === "number") return limit;
  const share = (Number(limit.slice(0, -1)) / 100) * total;
  // 1e-9: 10% of 30 is 3, not 3.0000000000000004 rounded up to 4.
  return round === "up" ? Math.ceil(share - 1e-9) : Math.floor(share + 1e-9);
}

export interface RolloutPlan {
  readonly batchSize: number;
  readonly parallel: number;
  readonly maxConcurrency: number;
  readonly maxErrors: number | null;
}

/**
 * Batches are at most `max_concurrency` agents (and GSE's batch size), and as many run at once as
 * fit in `max_concurrency`, within the GSE concurrency setting.
 */
export function planRollout(
  total: number,
  request: Pick<DispatchCommandRequest, "max_concurrency" | "max_errors">,
  settings: Pick<CommandSettings, "batchSize" | "gseConcurrency">,
): RolloutPlan {
  const maxConcurrency = request.max_concurrency === undefined ? total : Math.max(1, Math.min(total, resolveLimit(request.max_concurrency, total, "up")));
  const batchSize = Math.max(1, Math.min(settings.batchSize, maxConcurrency));
  const parallel = Math.max(1, Math.min(settings.gseConcurrency, Math.floor(maxConcurrency / batchSize)));
  const maxErrors = request.max_errors === undefined ? null : resolveLimit(request.max_errors, total, "down");
  return { batchSize, parallel, maxConcurrency, maxErrors };
}

/** Exponential backoff with full jitter: attempt 1 waits up to base, attempt 2 up to 2×base, … */
export function retryDelayMs(attempt: number, settings: Pick<CommandSettings, "retryBaseMs" | "retryMaxDelayMs">, random: () => number): number {
  const cap = Math.min(settings.retryMaxDelayMs, settings.retryBaseMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * cap);
}

/**
 * Per-agent codes of dispatch_message's `results` no retry can change: the agent is unknown to GSE
 * (2). Final at the first send and in every retry round. A refused slot or token is GSE refusing
 * the whole message (a business error), final at once as well (send.ts, retry.ts).
 */
export const PERMANENT_AGENT_CODES: ReadonlySet<number> = new Set([2]);

/** Retries due within one such window share one round (one job, one GSE call per batch of them). */
export const RETRY_ROUND_MS = 1_000;

/** When an agent's next attempt is due: its backoff from `now`, rounded up to the round window. */
export function retryDueAt(now: number, attempt: number, settings: Pick<CommandSettings, "retryBaseMs" | "retryMaxDelayMs">, random: () => number): number {
  return Math.ceil((now + retryDelayMs(attempt, settings, random)) / RETRY_ROUND_MS) * RETRY_ROUND_MS;
}

export const uniqueTargets = (ids: readonly string[]): string[] => [...new Set(ids)];

/** What makes two submissions of one message_id the same command. */
export function commandHash(request: DispatchCommandRequest): string {
  const canonical = JSON.stringify([
    uniqueTargets(request.agent_id_list),
    request.content,
    request.max_concurrency ?? null,
    request.max_errors ?? null,
    request.reply_timeout_seconds ?? null,
    // Only when given: the hash of a body without one stays what it was before reply rules.
    ...(request.reply_rule ? [request.reply_rule] : []),
    ...(request.target_query ? [{ target_query: request.target_query }] : []),
  ]);
  return createHash("sha256").update(canonical).digest("hex").slice(0, 16);
}
