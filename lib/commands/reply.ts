/**
 * GSE's upstream callback (docs/gse-contract.md §5.4): `{message_id, bk_agent_id, content}` POSTed to the URL
 * registered with the message slot. A reply to one of our commands, from an agent it was sent to,
 * becomes that agent's REPLIED outcome; anything else is an unsolicited upstream message (agents
 * start conversations: bkmonitorbeat asks for its data ids) and is kept apart, never mixed in;
 * when bk-monitor's own slot handler is set (GSE_SLOT_FORWARD_URL), it is also queued to be
 * POSTed on to it (lib/commands/forward.ts), so bk-monitor still answers its plugin.
 */
import { randomUUID } from "node:crypto";
import type { QueueSender } from "../core/queue.ts";
import type { SlotCallback } from "../gse/schemas.ts";
import { DEFAULT_REPLY_RULE, judgeReply } from "./reply-rule.ts";
import { COMMAND_TICK_JOB } from "./settings.ts";
import type { CommandStore } from "./store.ts";
import { upstreamPk, type CommandItem } from "./store/items.ts";

/** What we keep of a reply's content; the rest of a large reply is the plugin's business. */
export const MAX_REPLY_BYTES = 8 * 1024;

export interface ReplyDeps {
  readonly store: CommandStore;
  readonly now: () => number;
  readonly retentionMs: number;
  /**
   * Called with each reply to a command (again for a repeated one, so an owner whose work failed
   * the first time gets another go when GSE sends it again): how APM ingests discovery replies.
   */
  readonly onReply?: (command: CommandItem, callback: SlotCallback) => Promise<unknown>;
  /**
   * Hands an unsolicited upstream message on, once it is kept (the slot-forward queue). A failure
   * fails the callback (5xx), so GSE may post it again; the forward is idempotent by message id.
   */
  readonly forward?: (callback: SlotCallback) => Promise<void>;
  /**
   * Queues the command's tick now (delay 0): a reply that made room in its window, or that took
   * its errors past max_errors, so the next batch (or the abort) need not wait for the watchdog.
   */
  readonly wake?: (messageId: string, delaySeconds?: number) => Promise<void>;
}

/** A tick asked for by replies at most this often per command: ticks are idempotent, claims decide. */
export const WAKE_EVERY_MS = 1_000;

/**
 * How long the tick a reply of a sparse command asks for waits before it counts: a batch's replies
 * come in a burst, and only the burst's first reply gets its tick (one a second), so a tick sent at
 * once would count that reply alone and leave the rest to the watchdog. Waiting out the second lets
 * it count the burst; a reply after the second asks for a tick of its own.
 */
export const WAKE_DELAY_SECONDS = WAKE_EVERY_MS / 1000;

/** `forward` for the slot-forward queue: each unsolicited message as GSE posted it (lib/commands/forward.ts sends it on). */
export const slotForwarder =
  (queue: Pick<QueueSender, "sendBody">) =>
  (callback: SlotCallback): Promise<void> =>
    queue.sendBody(JSON.stringify({ message_id: callback.message_id, bk_agent_id: callback.bk_agent_id, content: callback.content }));

/** `wake` on the automation queue: the command's tick, now or after `delaySeconds`, marked as a wake (it schedules no watchdog of its own). */
export const commandWaker =
  (queue: Pick<QueueSender, "send">) =>
  (messageId: string, delaySeconds = 0): Promise<void> =>
    queue.send({ type: COMMAND_TICK_JOB, message_id: messageId, wake: true }, delaySeconds);

export type ReplyOutcome = "replied" | "duplicate" | "upstream";

const truncate = (text: string, bytes: number): string => {
  const buffer = Buffer.from(text, "utf8");
  return buffer.length <= bytes ? text : buffer.subarray(0, bytes).toString("utf8");
};

export const utcDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/**
 * After a reply settled an agent: a tick now when its failure took the command past max_errors
 * (it aborts), or when the window has room for the next batch (the store's marker lets one reply
 * a second through). `command` is as read before the reply: its counters can only be behind. A
 * reply its batch's count settles (a sparse command's) has moved no counter yet: it asks for the
 * tick that counts it whatever the counters say, still one a second at most.
 */
async function wakeAfterSettle(deps: ReplyDeps, command: CommandItem, failed: boolean, now: number): Promise<void> {
  if (!deps.wake || command.status !== "RUNNING") return;
  if (command.sparse_agents === true) {
    if (await deps.store.requestTick(command, { now, everyMs: WAKE_EVERY_MS, anyRoom: true })) await deps.wake(command.message_id, WAKE_DELAY_SECONDS);
    return;
  }
  const aborts = failed && command.max_errors !== null && command.errors + 1 > command.max_errors;
  const room = command.batches_done < command.batch_count && (await deps.store.requestTick(command, { now, everyMs: WAKE_EVERY_MS }));
  if (aborts || room) await deps.wake(command.message_id);
}

export async function receiveCallback(deps: ReplyDeps, callback: SlotCallback): Promise<ReplyOutcome> {
  const now = deps.now();
  const command = await deps.store.getCommand(callback.message_id);
  if (command) {
    const text = truncate(callback.content, MAX_REPLY_BYTES);
    const tracked = command.reply_timeout_seconds !== null;
    // Only a command that awaits replies judges them: the others ended on delivery.
    const verdict = tracked ? judgeReply(command.reply_rule ?? DEFAULT_REPLY_RULE, text) : { failed: false };
    const failure = verdict.failed ? { code: verdict.code ?? 1, message: verdict.message ?? "reply reports failure" } : undefined;
    const sparse = command.sparse_agents === true ? { hash: command.body_hash, targets: command.target_count, expiresAt: command.expires_at } : undefined;
    const result = await deps.store.markReplied(command, callback.bk_agent_id, {
      text,
      now,
      tracked,
      ...(failure ? { failure } : {}),
      ...(sparse ? { sparse } : {}),
    });
    if (result !== "not_targeted") {
      if (result === "replied" && tracked) await wakeAfterSettle(deps, command, failure !== undefined, now);
      await deps.onReply?.(command, callback);
      return result;
    }
  }
  await deps.store.putUpstream({
    pk: upstreamPk(utcDay(now)),
    sk: `${String(now).padStart(13, "0")}#${callback.bk_agent_id}#${randomUUID().slice(0, 8)}`,
    message_id: callback.message_id,
    bk_agent_id: callback.bk_agent_id,
    content: truncate(callback.content, MAX_REPLY_BYTES),
    received_at: now,
    expires_at: Math.floor((now + deps.retentionMs) / 1000),
  });
  await deps.forward?.(callback);
  return "upstream";
}
