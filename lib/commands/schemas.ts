/**
 * Tracked commands: what a caller may send beyond GSE's dispatch_message body, what a
 * command looks like to the API, and the automation jobs that drive commands. One schema per
 * shape; types are inferred.
 */
import * as z from "zod";
import { calendarDateSchema, decimalInt } from "../http/params.ts";
import { AGENT_OUTCOMES, COMMAND_STATUSES } from "./statuses.ts";
import { replyRuleSchema } from "./reply-rule.ts";
import { targetQuerySchema } from "../targets/schemas.ts";
import { agentIdSchema, dispatchMessageRequestSchema, messageIdSchema } from "../gse/schemas.ts";

/** One command's targets at most: far above any fleet, well below what one request body can hold. */
export const MAX_COMMAND_TARGETS = 200_000;

/** A command's content is kept with it (one DynamoDB item holds 400 KB); GSE documents no limit. */
export const MAX_COMMAND_CONTENT_BYTES = 256 * 1024;

/** A count (`10`) or a share of the targets (`"10%"`), as AWS Systems Manager Run Command takes them. */
export const rolloutLimitSchema = z.union([
  z.int().nonnegative().max(MAX_COMMAND_TARGETS),
  z.string().regex(/^(100|[1-9]?\d)(\.\d{1,2})?%$/, 'a count or a percentage such as "10%"'),
]);
export type RolloutLimit = z.infer<typeof rolloutLimitSchema>;

/**
 * Our dispatch_message body: GSE's (docs/gse-contract.md §5.2) with `slot_id`/`token` optional (bk-monitor
 * injects them, other callers need not) and a target list of any size, split into batches by us.
 * The rollout fields are our extension; plain GSE callers never send them.
 */
export const dispatchCommandSchema = dispatchMessageRequestSchema.partial({ slot_id: true, token: true }).extend({
  agent_id_list: z.array(agentIdSchema).min(1).max(MAX_COMMAND_TARGETS),
  content: z.string().refine((text) => Buffer.byteLength(text, "utf8") <= MAX_COMMAND_CONTENT_BYTES, `must be at most ${MAX_COMMAND_CONTENT_BYTES} bytes`),
  /** Agents a command has in flight at once (batch size and parallel batches follow from it). */
  max_concurrency: rolloutLimitSchema.refine((v) => v !== 0, "must be at least 1").optional(),
  /** Errors tolerated (failed deliveries, timeouts, failing replies); one more and nothing more is sent (ABORTED). */
  max_errors: rolloutLimitSchema.optional(),
  /** What makes a reply a failure (default json_code); judged only when replies are awaited (reply_timeout_seconds). */
  reply_rule: replyRuleSchema.optional(),
  /** Wait this long for each agent's reply; without it, delivery is success and replies are only recorded. */
  reply_timeout_seconds: z
    .int()
    .min(1)
    .max(7 * 86_400)
    .optional(),
  /** The query agent_id_list was resolved from (lib/commands/targets.ts), kept with the command. */
  target_query: targetQuerySchema.optional(),
});
export type DispatchCommandRequest = z.infer<typeof dispatchCommandSchema>;

/**
 * What the dispatch route and job take: the targets as `agent_id_list`, or as `target_query` over
 * the watched fleet (docs/rollouts.md §2), one of the two; commandRequestOf resolves a query.
 */
export const dispatchBodySchema = dispatchCommandSchema.extend({
  agent_id_list: dispatchCommandSchema.shape.agent_id_list.optional(),
});
export type DispatchBody = z.infer<typeof dispatchBodySchema>;

export { AGENT_OUTCOMES, COMMAND_STATUSES } from "./statuses.ts";
export const commandStatusSchema = z.enum(COMMAND_STATUSES);
export type CommandStatus = z.infer<typeof commandStatusSchema>;

/**
 * One agent's outcome. PENDING: not sent yet; SKIPPED: never sent because the command was
 * aborted or cancelled first. The others are the tracked commands'.
 */
export const agentOutcomeSchema = z.enum(AGENT_OUTCOMES);
export type AgentOutcome = z.infer<typeof agentOutcomeSchema>;

export const outcomeCountsSchema = z.object(Object.fromEntries(AGENT_OUTCOMES.map((o) => [o, z.int().nonnegative()])) as Record<AgentOutcome, z.ZodInt>);
export type OutcomeCounts = z.infer<typeof outcomeCountsSchema>;

export const agentResultSchema = z.object({
  bk_agent_id: z.string(),
  outcome: agentOutcomeSchema,
  attempts: z.int().nonnegative(),
  /** GSE's per-agent code and message of the last failed delivery. */
  code: z.int().optional(),
  message: z.string().optional(),
  /** The plugin's reply, as the callback carried it. */
  reply: z.string().optional(),
  replied_at: z.string().optional(),
  updated_at: z.string().optional(),
});
export type AgentResult = z.infer<typeof agentResultSchema>;

/** A command as GET /v1/commands/{message_id} shows it. */
export const commandViewSchema = z.object({
  message_id: z.string(),
  status: commandStatusSchema,
  /** Why the command stopped early (ABORTED, CANCELLED). */
  reason: z.string().optional(),
  targets: z.int().nonnegative(),
  counts: outcomeCountsSchema,
  batches: z.object({ total: z.int(), sent: z.int(), size: z.int(), parallel: z.int() }),
  rollout: z.object({
    max_concurrency: z.int(),
    max_errors: z.int().nullable(),
    errors: z.int(),
    /** Agents sent and not settled yet: at most max_concurrency. */
    in_flight: z.int(),
    paused: z.boolean(),
  }),
  reply_timeout_seconds: z.int().nullable(),
  reply_rule: replyRuleSchema,
  /** The fleet query the targets were resolved from, when the command was sent by query. */
  target_query: targetQuerySchema.optional(),
  max_attempts: z.int(),
  created_by: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
  finished_at: z.string().optional(),
});
export type CommandView = z.infer<typeof commandViewSchema>;

export const commandPageSchema = z.object({
  command: commandViewSchema,
  agents: z.array(agentResultSchema),
  /** Pass as `cursor` for the next page; absent on the last one. */
  next_cursor: z.string().optional(),
});
export type CommandPage = z.infer<typeof commandPageSchema>;

/** What our dispatch_message answers: GSE's `data` (only undelivered agents listed) plus the command. */
export const dispatchAnswerSchema = z.object({
  results: z.array(z.object({ bk_agent_id: z.string(), code: z.int(), message: z.string() })),
  command: commandViewSchema,
});
export type DispatchAnswer = z.infer<typeof dispatchAnswerSchema>;

export const commandListSchema = z.object({
  commands: z.array(z.object({ message_id: z.string(), status: commandStatusSchema, targets: z.int(), created_at: z.string(), created_by: z.string() })),
  next_cursor: z.string().optional(),
});
export type CommandList = z.infer<typeof commandListSchema>;

export const upstreamMessageSchema = z.object({
  message_id: z.string(),
  bk_agent_id: z.string(),
  content: z.string(),
  received_at: z.string(),
});
export const upstreamListSchema = z.object({ messages: z.array(upstreamMessageSchema), next_cursor: z.string().optional() });
export type UpstreamList = z.infer<typeof upstreamListSchema>;

export const commandQuerySchema = z.object({
  outcome: agentOutcomeSchema.optional(),
  limit: decimalInt({ min: 1, max: 1000, fallback: 100 }),
  cursor: z.string().max(2048).optional(),
});

export const commandListQuerySchema = z.object({
  status: commandStatusSchema.optional(),
  limit: decimalInt({ min: 1, max: 200, fallback: 50 }),
  cursor: z.string().max(2048).optional(),
});

export const upstreamQuerySchema = z.object({
  /** UTC day, `YYYY-MM-DD`; default today. */
  date: calendarDateSchema.optional(),
  limit: decimalInt({ min: 1, max: 1000, fallback: 100 }),
  cursor: z.string().max(2048).optional(),
});

export const messageIdParamSchema = z.object({ message_id: messageIdSchema });

export const cancelRequestSchema = z.object({ reason: z.string().max(500).optional() });
/** Pause and resume take an empty body (`{}`): nothing to say but the path; a body that is not JSON is refused. */
export const commandActionSchema = z.strictObject({});
