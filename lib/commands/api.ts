/**
 * The command API: dispatch (the GSE-compatible route), a command with its agents, the list of
 * commands, cancel, and the unsolicited upstream messages. Handlers in functions/commands are
 * thin wrappers around these.
 */
import { ConflictError, NotFoundError } from "../core/errors.ts";
import type { Page } from "../dynamo/cursor.ts";
import type { CommandStore } from "./store.ts";
import type { CommandItem } from "./store/items.ts";
import { advanceCommand } from "./send.ts";
import { COMMAND_TICK_JOB, type CommandDeps, type CommandViewDeps } from "./settings.ts";
import { settleCommand, stopCommand } from "./settle.ts";
import { scheduleTick, submitCommand } from "./submit.ts";
import { agentResult, batchCounts, commandView, describeCommand, sparseAgentPage, STAND_IN_OUTCOMES } from "./views.ts";
import { utcDay } from "./reply.ts";
import type { AgentOutcome, CommandList, CommandPage, CommandStatus, CommandView, DispatchAnswer, DispatchCommandRequest, UpstreamList } from "./schemas.ts";

/** What a dispatch answers with: the command, counted from its batches alone (cheap at any size). */
const answerView = async (store: CommandStore, command: CommandItem): Promise<CommandView> =>
  commandView(command, command.counts ?? (await batchCounts(store, command)));

/** What a dispatch that runs out of time names: the command, and where its state shows. */
export const commandTimeoutSubject = (messageId: string): { message_id: string; check: string } => ({
  message_id: messageId,
  check: `GET /v1/commands/${encodeURIComponent(messageId)}`,
});

/**
 * dispatch_message, tracked: the command is recorded, then its first batch is sent in the request
 * (bk-monitor's one-agent dispatches are answered as GSE would); the queue's tick sends the rest
 * at once, `parallel` at a time, so a request stays short whatever the target count. The answer
 * is GSE's: the agents not delivered to so far, plus the command. When GSE refused every batch this request sent, GSE's
 * error is passed through, as an untracked dispatch would; the command keeps retrying.
 */
export async function dispatchCommand(
  deps: CommandDeps,
  request: DispatchCommandRequest,
  createdBy: string,
  origin?: Record<string, unknown>,
): Promise<DispatchAnswer> {
  const { command, created } = await submitCommand(deps, request, createdBy, origin);
  if (!created) {
    const failed = await deps.store.agentPage(command, { limit: 5000, cursor: undefined, outcomes: ["FAILED", "RETRYING"] });
    return {
      results: failed.items.map((a) => ({ bk_agent_id: a.agent_id, code: a.code ?? 0, message: a.message ?? "" })),
      command: await answerView(deps.store, command),
    };
  }
  const result = await advanceCommand(deps, command.message_id, deps.settings.sendBudgetMs, { maxBatches: 1 });
  if (result.left > 0 || result.retryAt !== undefined) {
    try {
      if (result.left > 0) await deps.queue.send({ type: COMMAND_TICK_JOB, message_id: command.message_id }, 0);
      else await scheduleTick(deps, result.command, result.retryAt);
    } catch (error) {
      deps.logger?.warn("could not hand the rest of the command to the queue; its watchdog will", { message_id: command.message_id, error: String(error) });
    }
  }
  const first = result.wholeBatchErrors[0];
  if (first && result.wholeBatchErrors.length === result.sent) throw first;
  return { results: result.undelivered, command: await answerView(deps.store, result.command) };
}

async function existing(store: CommandStore, messageId: string): Promise<CommandItem> {
  const command = await store.getCommand(messageId);
  if (!command) throw new NotFoundError(`command ${messageId} not found`);
  return command;
}

/** A command with one page of its agents (sent ones; those never sent are only counted). */
export async function getCommandPage(
  deps: CommandViewDeps,
  messageId: string,
  query: { outcome?: AgentOutcome | undefined; limit: number; cursor?: string | undefined },
): Promise<CommandPage> {
  let command = await existing(deps.store, messageId);
  // A command waiting for replies ends as soon as all have come: looking at it is a good moment.
  if (command.status === "RUNNING") command = await settleCommand(deps, command, { checkReplies: true });
  const batches = await deps.store.batches(messageId, command.body_hash);
  const states = new Map(batches.map((b) => [b.index, b.state]));
  const ended = command.status !== "RUNNING";
  // Stored and told outcomes differ (lib/commands/outcomes.ts effectiveOutcome): SENT is stored as
  // PENDING until its batch is known sent, RETRYING as FAILED until recovery takes it; once the
  // command ended, an agent still waiting for a retry is FAILED and one never sent SKIPPED.
  const STORED: Partial<Record<AgentOutcome, AgentOutcome[]>> = ended
    ? { SENT: ["SENT", "PENDING"], PENDING: ["PENDING"], SKIPPED: ["SKIPPED", "PENDING"], FAILED: ["FAILED", "RETRYING"] }
    : { SENT: ["SENT", "PENDING"], PENDING: ["PENDING"], RETRYING: ["RETRYING", "FAILED"], FAILED: ["FAILED"] };
  // A sparse command's delivered agents have no item: they are listed from their batches.
  if (command.sparse_agents === true && (query.outcome === undefined || STAND_IN_OUTCOMES.includes(query.outcome))) {
    const walked = await sparseAgentPage(deps.store, command, batches, query);
    return { command: await describeCommand(deps.store, command), agents: walked.agents, ...(walked.cursor ? { next_cursor: walked.cursor } : {}) };
  }
  const stored: AgentOutcome[] | undefined = query.outcome === undefined ? undefined : (STORED[query.outcome] ?? [query.outcome]);
  const page = await deps.store.agentPage(command, { limit: query.limit, cursor: query.cursor, ...(stored ? { outcomes: stored } : {}) });
  const agents = page.items.map((item) => agentResult(item, states, ended)).filter((a) => query.outcome === undefined || a.outcome === query.outcome);
  return { command: await describeCommand(deps.store, command), agents, ...(page.cursor ? { next_cursor: page.cursor } : {}) };
}

export async function listCommands(
  store: CommandStore,
  query: { status?: CommandStatus | undefined; limit: number; cursor?: string | undefined },
): Promise<CommandList> {
  const page: Page<{ message_id: string; status: CommandStatus; targets: number; created_at: number; created_by: string }> = await store.listCommands({
    limit: query.limit,
    cursor: query.cursor,
    ...(query.status ? { status: query.status } : {}),
  });
  return {
    commands: page.items.map((c) => ({
      message_id: c.message_id,
      status: c.status,
      targets: c.targets,
      created_at: new Date(c.created_at).toISOString(),
      created_by: c.created_by,
    })),
    ...(page.cursor ? { next_cursor: page.cursor } : {}),
  };
}

/** Cancels a running command: batches not yet sent never are, pending retries stop. No alert: a person asked. */
export async function cancelCommand(deps: CommandDeps, messageId: string, reason: string): Promise<CommandView> {
  const command = await existing(deps.store, messageId);
  if (command.status !== "RUNNING")
    throw new ConflictError(`command ${messageId} is ${command.status}, not RUNNING`, { message_id: messageId, status: command.status });
  const stopped = await stopCommand(deps, command, "CANCELLED", reason);
  if (stopped.status !== "CANCELLED")
    throw new ConflictError(`command ${messageId} ended ${stopped.status} before it could be cancelled`, { message_id: messageId, status: stopped.status });
  return describeCommand(deps.store, stopped);
}

/**
 * Pauses a running command (nothing new is claimed; agents in flight still settle) or resumes it
 * (a tick is queued at once to claim again). 409 when it is not RUNNING.
 */
export async function setCommandPaused(deps: CommandViewDeps, messageId: string, paused: boolean): Promise<CommandView> {
  const command = await existing(deps.store, messageId);
  const changed =
    command.status === "RUNNING" && (paused ? await deps.store.pauseCommand(messageId, deps.now()) : await deps.store.resumeCommand(messageId, deps.now()));
  if (!changed) {
    const now = (await deps.store.getCommand(messageId)) ?? command;
    throw new ConflictError(`command ${messageId} is ${now.status}, not RUNNING`, { message_id: messageId, status: now.status });
  }
  if (!paused) await deps.queue.send({ type: COMMAND_TICK_JOB, message_id: messageId, wake: true }, 0);
  deps.logger?.info(paused ? "command paused" : "command resumed", { message_id: messageId });
  return describeCommand(deps.store, (await deps.store.getCommand(messageId)) ?? command);
}

export async function listUpstream(
  store: CommandStore,
  query: { date?: string | undefined; limit: number; cursor?: string | undefined },
  now: number,
): Promise<UpstreamList> {
  const page = await store.listUpstream(query.date ?? utcDay(now), { limit: query.limit, cursor: query.cursor });
  return {
    messages: page.items.map((m) => ({
      message_id: m.message_id,
      bk_agent_id: m.bk_agent_id,
      content: m.content,
      received_at: new Date(m.received_at).toISOString(),
    })),
    ...(page.cursor ? { next_cursor: page.cursor } : {}),
  };
}
