/**
 * The first step of a command: it is recorded (batches first, then the command item that makes
 * them real) before GSE hears anything, and its watchdog tick is queued.
 */
import { ConflictError } from "../core/errors.ts";
import { chunk } from "../dynamo/batch.ts";
import { assertCallerSlot } from "../gse/dispatch.ts";
import { commandHash, planRollout, uniqueTargets } from "./rollout.ts";
import type { DispatchCommandRequest } from "./schemas.ts";
import { COMMAND_TICK_JOB, MAX_QUEUE_DELAY_SECONDS, type CommandDeps, type CommandSettings } from "./settings.ts";
import { AGENT_SHARDS, batchSk, commandPk, indexSk, type BatchItem, type CommandItem } from "./store/items.ts";

export interface Submission {
  readonly command: CommandItem;
  /** False when this message_id was submitted before with the same body. */
  readonly created: boolean;
}

/** Who submits a command, and when. */
interface Submitter {
  readonly createdBy: string;
  readonly origin: Record<string, unknown> | undefined;
  readonly now: number;
}

/**
 * Records the command (batches first, then the command item that makes them real), before GSE
 * hears anything. Same message_id and body again: the existing command; another body: 409.
 */
export async function submitCommand(
  deps: CommandDeps,
  request: DispatchCommandRequest,
  createdBy: string,
  origin?: Record<string, unknown>,
): Promise<Submission> {
  assertCallerSlot(request, deps.slot);
  const { item, batches } = newCommandItems(request, deps.settings, { createdBy, origin, now: deps.now() });
  await deps.store.putBatches({ messageId: item.message_id, hash: item.body_hash, expiresAt: item.expires_at, members: item.sparse_agents === true }, batches);
  if (!(await deps.store.createCommand(item))) return { command: await resubmitted(deps, request, item.body_hash), created: false };
  // The watchdog: whatever happens to this request, the queue comes back to the command.
  try {
    await scheduleTick(deps, item);
  } catch (error) {
    deps.logger?.warn("could not schedule the command's watchdog; the sweep will find it", { message_id: item.message_id, error: String(error) });
  }
  deps.metrics?.add("CommandsStarted", 1);
  deps.logger?.info("command created", {
    message_id: item.message_id,
    targets: item.target_count,
    batches: item.batch_count,
    parallel: item.parallel,
    max_concurrency: item.max_concurrency,
    max_errors: item.max_errors,
  });
  return { command: item, created: true };
}

/** The command item and its batches, as a new command starts: RUNNING, nothing sent. */
function newCommandItems(request: DispatchCommandRequest, settings: CommandSettings, by: Submitter): { item: CommandItem; batches: BatchItem[] } {
  const targets = uniqueTargets(request.agent_id_list);
  const plan = planRollout(targets.length, request, settings);
  const hash = commandHash(request);
  const { now } = by;
  const expiresAt = Math.floor((now + settings.retentionMs) / 1000);
  const pk = commandPk(request.message_id);
  const batches: BatchItem[] = chunk(targets, plan.batchSize).map((ids, index) => ({
    pk,
    sk: batchSk(hash, index),
    index,
    size: ids.length,
    agent_ids: ids,
    state: "PENDING",
    expires_at: expiresAt,
  }));
  const item: CommandItem = {
    pk,
    sk: "meta",
    message_id: request.message_id,
    body_hash: hash,
    content: request.content,
    target_count: targets.length,
    batch_count: batches.length,
    batch_size: plan.batchSize,
    parallel: plan.parallel,
    max_concurrency: plan.maxConcurrency,
    max_errors: plan.maxErrors,
    reply_timeout_seconds: request.reply_timeout_seconds ?? null,
    max_attempts: settings.maxAttempts,
    status: "RUNNING",
    batches_done: 0,
    errors: 0,
    pending_retries: 0,
    in_flight: 0,
    // An agent needs no item unless something happens to it (a failure, a reply, a reply timeout: issue 23).
    sparse_agents: true,
    // Its agents' items (a reply from each, at scale) spread over several keys, not the command's one.
    agent_shards: AGENT_SHARDS,
    ...(request.reply_rule ? { reply_rule: request.reply_rule } : {}),
    ...(request.target_query ? { target_query: request.target_query } : {}),
    created_by: by.createdBy,
    created_at: now,
    updated_at: now,
    index_sk: indexSk(now, request.message_id),
    expires_at: expiresAt,
    ...(by.origin ? { origin: by.origin } : {}),
  };
  return { item, batches };
}

/** The message_id is a command already: the same one again, or a conflict when the body differs. */
async function resubmitted(deps: CommandDeps, request: DispatchCommandRequest, hash: string): Promise<CommandItem> {
  const existing = await deps.store.getCommand(request.message_id);
  if (!existing) throw new Error(`command ${request.message_id} neither created nor found`);
  deps.logger?.info("command resubmitted", { message_id: request.message_id, same_body: existing.body_hash === hash, status: existing.status });
  if (existing.body_hash !== hash) {
    throw new ConflictError(`message_id ${request.message_id} is already a command with a different body`, {
      message_id: request.message_id,
      status: existing.status,
    });
  }
  return existing;
}

/** The command's watchdog tick: after the tick period, sooner for a retry due or a reply deadline. */
export async function scheduleTick(deps: Pick<CommandDeps, "queue" | "settings" | "now">, command: CommandItem, dueAt?: number): Promise<void> {
  let delayMs = deps.settings.tickMs;
  if (dueAt !== undefined) delayMs = Math.min(delayMs, Math.max(0, dueAt - deps.now()));
  // Replies are due reply_timeout_seconds after delivery: look again then.
  if (command.reply_timeout_seconds !== null) delayMs = Math.min(delayMs, command.reply_timeout_seconds * 1000 + 1_000);
  await deps.queue.send({ type: COMMAND_TICK_JOB, message_id: command.message_id }, Math.min(MAX_QUEUE_DELAY_SECONDS, Math.ceil(delayMs / 1000)));
}
