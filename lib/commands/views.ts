/** Commands and their agents as the API shows them. */
import * as z from "zod";
import { decodeCursor, encodeCursor } from "../dynamo/cursor.ts";
import { countOutcomes, effectiveOutcome, listedBatch, standIn, zeroCounts } from "./outcomes.ts";
import { DEFAULT_REPLY_RULE } from "./reply-rule.ts";
import type { AgentOutcome, AgentResult, CommandView, OutcomeCounts } from "./schemas.ts";
import type { CommandStore } from "./store.ts";
import type { AgentCommandItem, BatchItem, CommandItem } from "./store/items.ts";

const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());

export function commandView(command: CommandItem, counts: OutcomeCounts): CommandView {
  return {
    message_id: command.message_id,
    status: command.status,
    ...(command.reason !== undefined ? { reason: command.reason } : {}),
    targets: command.target_count,
    counts,
    batches: { total: command.batch_count, sent: command.batches_done, size: command.batch_size, parallel: command.parallel },
    rollout: {
      max_concurrency: command.max_concurrency,
      max_errors: command.max_errors,
      errors: command.errors,
      in_flight: Math.max(0, command.in_flight ?? 0),
      paused: command.paused === true,
    },
    reply_timeout_seconds: command.reply_timeout_seconds,
    reply_rule: command.reply_rule ?? DEFAULT_REPLY_RULE,
    ...(command.target_query ? { target_query: command.target_query } : {}),
    max_attempts: command.max_attempts,
    created_by: command.created_by,
    created_at: new Date(command.created_at).toISOString(),
    updated_at: new Date(command.updated_at).toISOString(),
    ...(command.finished_at !== undefined ? { finished_at: iso(command.finished_at) } : {}),
  };
}

/** Above this many targets a running command is counted from its batches, not agent by agent. */
export const EXACT_COUNT_MAX_TARGETS = 20_000;

/**
 * Counts from the batches alone (no agent read): failed at delivery, settled by a reply or a
 * timeout as of the batch's last count (lib/commands/reply-count.ts; a failing reply is its
 * agent's FAILED, as lib/commands/reply-rule.ts judges it), the rest of a sent batch SENT, and
 * batches not sent yet. A reply not counted yet shows SENT until the next tick counts it. An agent
 * whose delivery failed stays FAILED here whatever its retries did since (RETRYING, then SENT,
 * REPLIED…): only its own item says, and reading those is what this count avoids.
 */
export async function batchCounts(store: Pick<CommandStore, "batches">, command: CommandItem): Promise<OutcomeCounts> {
  const counts = zeroCounts();
  for (const batch of await store.batches(command.message_id, command.body_hash)) {
    if (batch.state === "SENT") {
      const failed = batch.failed ?? 0;
      const settled = batch.settled ?? 0;
      const errors = batch.reply_errors ?? 0;
      // Counted before timeouts were kept apart: its errors show FAILED (they are errors either way).
      const timeouts = batch.reply_timeouts ?? 0;
      counts.FAILED += failed + errors - timeouts;
      counts.TIMED_OUT += timeouts;
      counts.REPLIED += settled - errors;
      counts.SENT += batch.size - failed - settled;
    } else counts[command.status === "RUNNING" ? "PENDING" : "SKIPPED"] += batch.size;
  }
  return counts;
}

/**
 * A command as the API shows it. An ended command's counts are stored with it (replies that come
 * after a command without a reply timeout ended show on the agents, not in the counts); a running
 * one is counted agent by agent or, when large (a poll must stay cheap), from its batches.
 */
export async function describeCommand(store: CommandStore, command: CommandItem): Promise<CommandView> {
  // A stopped command whose agents in flight still settle: its stored counts are not the final ones yet.
  const live = command.counts === undefined || (command.status !== "RUNNING" && command.reply_timeout_seconds !== null && (command.in_flight ?? 0) > 0);
  const counts =
    !live && command.counts
      ? command.counts
      : command.target_count > EXACT_COUNT_MAX_TARGETS
        ? await batchCounts(store, command)
        : await countOutcomes(store, command);
  return commandView(command, counts);
}

export function agentResult(item: AgentCommandItem, states: ReadonlyMap<number, BatchItem["state"]>, ended = false): AgentResult {
  return {
    bk_agent_id: item.agent_id,
    outcome: effectiveOutcome(item, states, ended),
    attempts: item.attempts,
    ...(item.code !== undefined ? { code: item.code } : {}),
    ...(item.message !== undefined ? { message: item.message } : {}),
    ...(item.reply !== undefined ? { reply: item.reply } : {}),
    ...(item.replied_at !== undefined ? { replied_at: iso(item.replied_at) } : {}),
    updated_at: iso(item.updated_at),
  };
}

/** Where a sparse command's listing goes on: a batch, and an offset into its ids. */
const sparseCursorSchema = z.object({ batch: z.int().min(0), offset: z.int().min(0) });

/** Outcomes a sparse command's agent may have without an item: listed by walking its batches. */
export const STAND_IN_OUTCOMES: readonly AgentOutcome[] = ["SENT", "PENDING", "SKIPPED"];

/** Agents read at once while walking a batch: one BatchGetItem. */
const WALK_STEP = 100;

/**
 * One page of a sparse command's agents, batch by batch in send order: each agent's item when it
 * has one, else as its batch says (lib/commands/outcomes.ts standIn); optionally of one outcome.
 */
export async function sparseAgentPage(
  store: CommandStore,
  command: CommandItem,
  batches: readonly BatchItem[],
  query: { outcome?: AgentOutcome | undefined; limit: number; cursor?: string | undefined },
): Promise<{ agents: AgentResult[]; cursor: string | undefined }> {
  const from = query.cursor === undefined ? { batch: 0, offset: 0 } : decodeCursor(sparseCursorSchema, query.cursor);
  const states = new Map(batches.map((b) => [b.index, b.state]));
  const ended = command.status !== "RUNNING";
  const walk = batches.filter((b) => listedBatch(b) && b.index >= from.batch).sort((a, b) => a.index - b.index);
  const agents: AgentResult[] = [];
  for (const [n, batch] of walk.entries()) {
    const ids = (await store.batchIds(command.message_id, [batch])).get(batch.index) ?? [];
    let offset = batch.index === from.batch ? from.offset : 0;
    while (offset < ids.length) {
      const part = ids.slice(offset, offset + Math.min(WALK_STEP, query.limit - agents.length));
      const items = await store.agentsByIds(command, part);
      for (const id of part) {
        const agent = agentResult(items.get(id) ?? standIn(command, batch, id), states, ended);
        if (query.outcome === undefined || agent.outcome === query.outcome) agents.push(agent);
      }
      offset += part.length;
      if (agents.length >= query.limit) {
        const next = offset < ids.length ? { batch: batch.index, offset } : walk[n + 1] ? { batch: (walk[n + 1] as BatchItem).index, offset: 0 } : undefined;
        return { agents, cursor: next ? encodeCursor(next) : undefined };
      }
    }
  }
  return { agents, cursor: undefined };
}
