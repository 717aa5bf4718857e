/**
 * The items of the commands table (lib/resources.ts TABLES.commands) and their keys. A command is
 * written before GSE hears of it, with its batches: each batch's agent ids once, gzipped, in an
 * item never rewritten, and its send state in a small item of its own (each write of an item is
 * billed by its size). An agent gets an item of its own only when there is something to keep of
 * it: a failure, a retry, a reply, a reply timeout (issue 23). A command (`sparse_agents`) writes
 * its agents' membership once, hashed into buckets, so a reply finds its agent's batch by one
 * read and creates the agent's item then. An agent without an item is as its batch says:
 * delivered once the batch is SENT. When replies are awaited, a reply (or a reply timeout) to an
 * agent without an item creates it `by_batch`: the command's counters learn of it from its
 * batch's count (lib/commands/reply-count.ts), not from the reply's write. Commands written
 * before that (no `sparse_agents`) had every agent's item written before its batch was sent.
 *
 *   pk = cmd#<message_id>           sk = meta                      the command: settings, status, counters      (command.ts)
 *   pk = cmd#<message_id>           sk = batch#<hash>#<5 digits>   one batch's send state and counts            (batches.ts)
 *   pk = cmd#<message_id>#<shard>   sk = ids#<hash>#<5 digits>     one batch's agent ids, gzipped, written once  (ids.ts)
 *   pk = cmd#<message_id>#<shard>   sk = members#<hash>#<5 digits> one bucket of agents (by id hash) with their batch (ids.ts)
 *   pk = cmdagents#<shard>#<message_id> sk = agent#<agent id>      one agent's outcome, attempts, reply           (agents.ts)
 *   pk = its agent item's pk        sk = retry#<due ms>#<agent>  a RETRYING agent's next attempt, by due time (retries.ts)
 *   pk = cmd#<message_id>   sk = retryjob#<due ms>       the one retry job queued for that due time   (retries.ts)
 *   pk = cmd#<message_id>   sk = retrylock               the round running (retry_lock, retry_lock_until, retry_again) (retries.ts)
 *   pk = cmds#index         sk = <created ms>#<id>       every command, newest last (listing, watchdog) (listing.ts)
 *   pk = upstream#<day>     sk = <ms>#<agent>#<n>        a message from an agent no command asked for (upstream.ts)
 *
 * Batch keys carry the body's hash: two different bodies racing on one message_id write apart,
 * and only the one whose meta item wins is ever read. The ids and members items spread over
 * ID_SHARDS partition keys, and agent items over the command's `agent_shards` (AGENT_SHARDS when
 * it was written; by a hash of the agent id), so a large command's burst of writes (a reply from
 * each of 100k agents) does not land on one key: DynamoDB writes one key at 1,000 WCU/s at most.
 * A command written before `agent_shards` has its agent items under cmd#<message_id>. The shard
 * leads the key so the message id (which may hold '#') reads back from it (messageIdOfAgentPk).
 */
import { createHash } from "node:crypto";
import * as z from "zod";
import { targetQuerySchema } from "../../targets/schemas.ts";
import { TABLES } from "../../resources.ts";
import { replyRuleSchema } from "../reply-rule.ts";
import { agentOutcomeSchema, commandStatusSchema, outcomeCountsSchema } from "../schemas.ts";

export const TTL = TABLES.commands.ttlAttribute;

export const BATCH_STATES = ["PENDING", "SENDING", "SENT", "SKIPPED"] as const;

export const commandItemSchema = z.object({
  pk: z.string(),
  sk: z.literal("meta"),
  message_id: z.string(),
  body_hash: z.string(),
  content: z.string(),
  target_count: z.int(),
  batch_count: z.int(),
  batch_size: z.int(),
  parallel: z.int(),
  max_concurrency: z.int(),
  max_errors: z.int().nullable(),
  reply_timeout_seconds: z.int().nullable(),
  max_attempts: z.int(),
  status: commandStatusSchema,
  reason: z.string().optional(),
  batches_done: z.int(),
  /** Delivery failures so far (first failures only): what max_errors is checked against. */
  errors: z.int(),
  /** Agents whose delivery failed and that wait for another attempt. */
  pending_retries: z.int(),
  /**
   * Agents claimed for sending and not settled yet (docs/rollouts.md §1): what max_concurrency
   * bounds. Every claim adds and every settle subtracts in the transaction of its move. Absent on
   * commands written before the window existed: 0.
   */
  in_flight: z.int().optional(),
  /** Nothing new is claimed while true; agents in flight still settle. */
  paused: z.boolean().optional(),
  /** What makes a reply a failure; absent: json_code. Only reply-tracked commands judge replies. */
  reply_rule: replyRuleSchema.optional(),
  target_query: targetQuerySchema.optional(),
  /** The last time a settle asked for a tick to send the next batch: one such tick a second at most. */
  tick_requested_at: z.number().optional(),
  created_by: z.string(),
  created_at: z.number(),
  updated_at: z.number(),
  finished_at: z.number().optional(),
  counts: outcomeCountsSchema.optional(),
  alerted_at: z.number().optional(),
  /**
   * No agent item is written before its batch is sent (a command that awaits no reply): an agent
   * without an item is as its batch says, and its membership (ids.ts) tells a reply its batch.
   */
  sparse_agents: z.boolean().optional(),
  /** Partition keys its agent items spread over (agentPk); absent: all under the command's own key. */
  agent_shards: z.int().min(1).optional(),
  /** Who started the command and why, when not a caller of dispatch (an APM datasource action): read back by that owner. */
  origin: z.record(z.string(), z.unknown()).optional(),
  index_sk: z.string(),
  [TTL]: z.int(),
});
export type CommandItem = z.infer<typeof commandItemSchema>;

export const batchItemSchema = z.object({
  pk: z.string(),
  sk: z.string(),
  index: z.int(),
  size: z.int(),
  /** Read from the batch's ids item (or, on batches written before it existed, stored here). */
  agent_ids: z.array(z.string()).optional(),
  state: z.enum(BATCH_STATES),
  claim: z.string().optional(),
  lease_until: z.number().optional(),
  sent_at: z.number().optional(),
  failed: z.int().optional(),
  /**
   * Of its agents whose items were created `by_batch` (a reply or a reply timeout, replies
   * awaited), those counted on the command so far (out of the window), and of those the errors
   * (a failing reply, a timeout), and of those the timeouts: so a large command's counts, read
   * from its batches alone, split them REPLIED / FAILED / TIMED_OUT (lib/commands/views.ts
   * batchCounts). Only ever raised, by one conditional write from the last count. A batch counted
   * before reply_timeouts existed has none: its errors show FAILED until a count writes it.
   */
  settled: z.int().optional(),
  reply_errors: z.int().optional(),
  reply_timeouts: z.int().optional(),
  /** Sends of the whole batch so far; a batch GSE refused as a whole waits until not_before. */
  attempts: z.int().optional(),
  not_before: z.number().optional(),
  [TTL]: z.int(),
});
export type BatchItem = z.infer<typeof batchItemSchema>;

export const agentCommandItemSchema = z.object({
  pk: z.string(),
  sk: z.string(),
  agent_id: z.string(),
  batch: z.int(),
  outcome: agentOutcomeSchema,
  attempts: z.int(),
  /** No further attempt will be made (FAILED for good). */
  final: z.boolean().optional(),
  code: z.int().optional(),
  message: z.string().optional(),
  reply: z.string().optional(),
  replied_at: z.number().optional(),
  retry_at: z.number().optional(),
  claimed_at: z.number().optional(),
  /** Its first delivery failed (set once, kept through retries and replies): what a batch's completion counts. */
  failed_first: z.boolean().optional(),
  /** That first failure was final (no retry). */
  first_final: z.boolean().optional(),
  /**
   * Created by a reply or a reply timeout of an agent that had no item (replies awaited): settled
   * and counted through its batch's count (BatchItem.settled), never by a counter write of its
   * own. Such an item never moves again (REPLIED, FAILED for good, TIMED_OUT).
   */
  by_batch: z.boolean().optional(),
  updated_at: z.number(),
  [TTL]: z.int(),
});
export type AgentCommandItem = z.infer<typeof agentCommandItemSchema>;

/** A RETRYING agent due at `due`, at the attempt count its retry claims from. */
export const retryEntrySchema = z.object({
  pk: z.string(),
  sk: z.string(),
  agent_id: z.string(),
  due: z.number(),
  attempts: z.int(),
  [TTL]: z.int(),
});
export type RetryEntry = z.infer<typeof retryEntrySchema>;

export const indexItemSchema = z.object({
  pk: z.literal("cmds#index"),
  sk: z.string(),
  message_id: z.string(),
  status: commandStatusSchema,
  targets: z.int(),
  created_at: z.number(),
  created_by: z.string(),
  [TTL]: z.int(),
});
export type IndexItem = z.infer<typeof indexItemSchema>;

export const upstreamItemSchema = z.object({
  pk: z.string(),
  sk: z.string(),
  message_id: z.string(),
  bk_agent_id: z.string(),
  content: z.string(),
  received_at: z.number(),
  [TTL]: z.int(),
});
export type UpstreamItem = z.infer<typeof upstreamItemSchema>;

/** A batch's agent ids (or a bucket of members), gzipped: written once, never rewritten. */
export const idsItemSchema = z.object({
  pk: z.string(),
  sk: z.string(),
  ids: z.instanceof(Uint8Array),
  [TTL]: z.int(),
});
export type IdsItem = z.infer<typeof idsItemSchema>;

export const commandPk = (messageId: string): string => `cmd#${messageId}`;
/** Partition keys the ids and members items of one command spread over. */
export const ID_SHARDS = 8;
export const shardPk = (messageId: string, n: number): string => `${commandPk(messageId)}#${n % ID_SHARDS}`;
export const idsSk = (hash: string, index: number): string => `ids#${hash}#${String(index).padStart(5, "0")}`;
export const membersSk = (hash: string, bucket: number): string => `members#${hash}#${String(bucket).padStart(5, "0")}`;
export const META_SK = "meta";
export const agentSk = (agentId: string): string => `agent#${agentId}`;

/** Partition keys a new command's agent items spread over: 100k replies at 1,000 WCU/s per key take 12.5 s, not 100 s. */
export const AGENT_SHARDS = 8;
/** A stable hash of an agent id: its members bucket (ids.ts) and its agent shard. */
export const agentHash = (agentId: string): number => createHash("sha1").update(agentId).digest().readUInt32BE(0);
const AGENT_SHARD_PREFIX = "cmdagents#";
/** What an agent item's key needs of its command: its id, and how its agent items spread. */
export type AgentsOf = Pick<CommandItem, "message_id" | "agent_shards">;
/** The partition key of one agent's item of a command. */
export const agentPk = (command: AgentsOf, agentId: string): string =>
  command.agent_shards === undefined
    ? commandPk(command.message_id)
    : `${AGENT_SHARD_PREFIX}${agentHash(agentId) % command.agent_shards}#${command.message_id}`;
export const agentKey = (command: AgentsOf, agentId: string): { pk: string; sk: string } => ({ pk: agentPk(command, agentId), sk: agentSk(agentId) });
/** Every partition key holding the command's agent items, in listing order. */
export const agentPartitions = (command: AgentsOf): string[] =>
  command.agent_shards === undefined
    ? [commandPk(command.message_id)]
    : Array.from({ length: command.agent_shards }, (_, n) => `${AGENT_SHARD_PREFIX}${n}#${command.message_id}`);
/** The message id of an agent item's partition key (either layout); undefined for any other key. */
export function messageIdOfAgentPk(pk: string): string | undefined {
  if (pk.startsWith(AGENT_SHARD_PREFIX)) {
    const rest = pk.slice(AGENT_SHARD_PREFIX.length);
    const cut = rest.indexOf("#");
    return cut > 0 ? rest.slice(cut + 1) : undefined;
  }
  return pk.startsWith("cmd#") ? pk.slice("cmd#".length) : undefined;
}
export const AGENT_PREFIX = "agent#";
export const batchPrefix = (hash: string): string => `batch#${hash}#`;
export const batchSk = (hash: string, index: number): string => `${batchPrefix(hash)}${String(index).padStart(5, "0")}`;
export const RETRY_PREFIX = "retry#";
/** Due times sort as text: 13 digits reach the year 2286. */
export const retrySk = (due: number, agentId: string): string => `${RETRY_PREFIX}${String(due).padStart(13, "0")}#${agentId}`;
export const RETRY_LOCK_SK = "retrylock";
export const retryJobSk = (due: number): string => `retryjob#${String(due).padStart(13, "0")}`;
export const INDEX_PK = "cmds#index";
export const indexSk = (createdAt: number, messageId: string): string => `${String(createdAt).padStart(13, "0")}#${messageId}`;
export const upstreamPk = (day: string): string => `upstream#${day}`;

/** A failed delivery to record: GSE's per-agent code and message. */
export interface AgentFailure {
  readonly agentId: string;
  readonly code: number;
  readonly message: string;
  /** No further attempt (attempts used up, or the command no longer runs). */
  readonly final: boolean;
}

/** Counter changes on the command that go with agent changes, in the same transaction. */
export interface CommandDelta {
  readonly errors?: number;
  readonly pendingRetries?: number;
  readonly batchesDone?: number;
  /** Agents entering (+) or leaving (-) the in-flight window. */
  readonly inFlight?: number;
}

/** The batch a sender holds: the claim it wrote decides every later write to the batch. */
export interface BatchClaim {
  readonly messageId: string;
  readonly sk: string;
  readonly claim: string;
}

/** One agent at a known attempt count: a retry's writes only hold while the count is unchanged. */
export interface AgentAttempt {
  readonly command: AgentsOf;
  readonly agentId: string;
  readonly attempts: number;
}
