/**
 * Tracked commands from the CLI: `dispatch` (optionally `--wait`ing for the end with a
 * live bar), `command`, `commands` and `cancel`.
 */
import { Option, type Command } from "commander";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import type { CommandPage, DispatchCommandRequest } from "../lib/commands/schemas.ts";
import { AGENT_OUTCOMES, COMMAND_STATUSES } from "./choices.ts";
import { callApi, type Target } from "./api.ts";
import { CliError, ReportedError, UsageError } from "./errors.ts";
import { commandPageText, commandsTable, commandSummary, dispatchText } from "./format.ts";
import type { Io } from "./api.ts";
import { rt } from "./lazy.ts";
import { commandProgress } from "./progress.ts";

export interface CommandContext {
  readonly io: Io;
  readonly target: () => Target;
  readonly json: () => boolean;
  readonly print: (data: unknown, human: () => string) => void;
}

interface DispatchOptions {
  readonly agents: string;
  readonly content: string;
  readonly messageId?: string;
  readonly maxConcurrency?: string;
  readonly maxErrors?: string;
  readonly replyTimeout?: string;
  readonly wait?: boolean;
}

const POLL_MS = 1000;
/** Polls that may fail in a row (a gateway hiccup) before the wait gives up; the command goes on regardless. */
const POLL_FAILURES_TOLERATED = 5;

const commandPath = (messageId: string): string => `/v1/commands/${encodeURIComponent(messageId)}`;

/** `--agents`: a file (one id per line, `#` comments, or a JSON array) when one is there, else ids separated by commas. */
export function agentIds(value: string): string[] {
  if (existsSync(value)) {
    const text = readFileSync(value, "utf8");
    if (text.trimStart().startsWith("[")) {
      const parsed: unknown = JSON.parse(text);
      if (!Array.isArray(parsed) || !parsed.every((id) => typeof id === "string"))
        throw new UsageError(`${value}: a JSON agent list is an array of id strings`);
      return parsed;
    }
    return text
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l !== "" && !l.startsWith("#"));
  }
  // No agent id has a slash (GSE's ids are `cloud:ip` or letters, digits, '.', '_', '-'): this was meant as a file.
  if (value.includes("/")) throw new UsageError(`--agents: no such file ${value}`);
  return value
    .split(",")
    .map((id) => id.trim())
    .filter((id) => id !== "");
}

/** `--content`: the text itself, or `@path` for a file's text (`@@…` for text that starts with `@`). */
export function contentOf(value: string): string {
  if (value.startsWith("@@")) return value.slice(1);
  if (!value.startsWith("@")) return value;
  const path = value.slice(1);
  if (!existsSync(path)) throw new UsageError(`--content: no such file ${path}`);
  return readFileSync(path, "utf8");
}

/** A count stays a number for the API; `10%` stays a string. */
export const rolloutLimit = (value: string | undefined): number | string | undefined =>
  value === undefined ? undefined : /^\d+$/.test(value) ? Number(value) : value;

const FLAGS: Record<string, string> = {
  agent_id_list: "--agents",
  content: "--content",
  message_id: "--message-id",
  max_concurrency: "--max-concurrency",
  max_errors: "--max-errors",
  reply_timeout_seconds: "--reply-timeout",
};

/** The request, checked with the route's own schema here, so a mistake is a usage error (2) naming the flag. */
function dispatchBody(options: DispatchOptions): DispatchCommandRequest {
  const replyTimeout = options.replyTimeout;
  if (replyTimeout !== undefined && !/^\d+$/.test(replyTimeout)) throw new UsageError(`--reply-timeout is whole seconds, not "${replyTimeout}"`);
  const ids = agentIds(options.agents);
  if (ids.length === 0) throw new UsageError(`--agents: no agent ids in "${options.agents}"`);
  const body = rt().dispatchCommandSchema.safeParse({
    message_id: options.messageId ?? `cli.${randomBytes(8).toString("hex")}`,
    agent_id_list: ids,
    content: contentOf(options.content),
    max_concurrency: rolloutLimit(options.maxConcurrency),
    max_errors: rolloutLimit(options.maxErrors),
    reply_timeout_seconds: replyTimeout === undefined ? undefined : Number(replyTimeout),
  });
  if (!body.success) {
    const issue = body.error.issues[0];
    const [field, ...rest] = issue?.path ?? [];
    throw new UsageError(
      `${FLAGS[String(field)] ?? String(field)}${rest.length > 0 ? ` (${String(field)}.${rest.join(".")})` : ""}: ${issue?.message ?? "invalid"}`,
    );
  }
  return body.data;
}

async function fetchPage(target: Target, messageId: string, limit?: number): Promise<CommandPage> {
  return callApi(target, "GET", `${commandPath(messageId)}${limit === undefined ? "" : `?limit=${limit}`}`, rt().commandPageSchema);
}

/** Polls until the command stops RUNNING; returns its last page (the API's default page of agents). */
async function waitForEnd(ctx: CommandContext, first: CommandPage["command"]): Promise<CommandPage> {
  const target = ctx.target();
  const progress = commandProgress({ stream: progressStream(ctx.io), json: ctx.json(), out: ctx.io.out, color: ctx.io.color });
  let command = first;
  let failures = 0;
  try {
    progress.update(command);
    while (command.status === "RUNNING") {
      await sleep(POLL_MS);
      try {
        // One agent per poll: only the counts are shown while waiting.
        command = (await fetchPage(target, command.message_id, 1)).command;
        failures = 0;
      } catch (error) {
        if (!(error instanceof CliError) || ++failures > POLL_FAILURES_TOLERATED) throw error;
      }
      progress.update(command);
    }
    return await fetchPage(target, command.message_id);
  } catch (error) {
    const cause = error instanceof CliError ? error : undefined;
    throw new CliError(
      `${error instanceof Error ? error.message : String(error)}; stopped waiting, the command goes on: gse-control command ${first.message_id}`,
      cause?.status,
      cause?.code,
    );
  } finally {
    progress.stop();
  }
}

/** The bar goes to stderr, so stdout stays the result; only when a person watches both streams on a terminal. */
function progressStream(io: Io): NodeJS.WritableStream | undefined {
  if (io.progress !== undefined) return io.progress ?? undefined;
  return process.stdout.isTTY && process.stderr.isTTY ? process.stderr : undefined;
}

const dispatchPath = "/api/v2/cluster/dispatch_message";

/**
 * The command to wait for: the dispatch answer's, or, when the route answered 5xx, the one it
 * recorded anyway (it passes GSE's error through when GSE refused every batch it sent, and the
 * command keeps retrying). A 4xx recorded nothing of this request: a command found under the id
 * then is someone else's.
 */
async function dispatchedOrRecorded(ctx: CommandContext, target: Target, body: DispatchCommandRequest): Promise<CommandPage["command"]> {
  try {
    return (await callApi(target, "POST", dispatchPath, rt().dispatchAnswerSchema, { body })).command;
  } catch (error) {
    return recordedOrThrow(ctx, target, body.message_id, error);
  }
}

/**
 * After a route that records a command answered `error`: the command recorded under `messageId`
 * when the error was a 5xx and there is one (it retries; we wait for it), else the error again.
 */
export async function recordedOrThrow(ctx: CommandContext, target: Target, messageId: string, error: unknown): Promise<CommandPage["command"]> {
  const recorded = error instanceof CliError && (error.status ?? 0) >= 500 ? await fetchPage(target, messageId, 1).catch(() => undefined) : undefined;
  if (recorded === undefined) throw error;
  ctx.io.err(`gse-control: ${error instanceof Error ? error.message : String(error)}; the command was recorded and retries, waiting for it\n`);
  return recorded.command;
}

const endedBadly = (status: string): CliError => new ReportedError(`the command ended ${status}`, undefined, "command_ended");

/**
 * `--wait`: follows the command to its end (a live bar on a terminal), prints its final page (the
 * summary, and where to look at failed agents) and throws (exit 1) unless it ended SUCCEEDED.
 */
export async function followCommand(ctx: CommandContext, first: CommandPage["command"]): Promise<void> {
  const final = await waitForEnd(ctx, first);
  const { counts } = final.command;
  const hint =
    counts.FAILED + counts.TIMED_OUT > 0
      ? `\nagents: gse-control command ${final.command.message_id} --outcome ${counts.FAILED > 0 ? "FAILED" : "TIMED_OUT"}`
      : "";
  ctx.print(final, () => `${commandSummary(final.command, ctx.io.color)}${hint}`);
  if (final.command.status !== "SUCCEEDED") throw endedBadly(final.command.status);
}

/** A list command's `--status`, `--limit` and `--cursor`. */
export interface ListOptions {
  readonly status?: string;
  readonly limit: string;
  readonly cursor?: string;
}

/** The query string of a list page: its limit, and status and cursor when given. */
export const listQuery = (options: ListOptions): string =>
  new URLSearchParams({
    limit: options.limit,
    ...(options.status ? { status: options.status } : {}),
    ...(options.cursor ? { cursor: options.cursor } : {}),
  }).toString();

/** Without `--wait`: a command that already ended other than SUCCEEDED is a failure (exit 1); RUNNING is not. */
export function throwIfEndedBadly(command: CommandPage["command"]): void {
  if (command.status !== "RUNNING" && command.status !== "SUCCEEDED") throw endedBadly(command.status);
}

async function dispatch(ctx: CommandContext, options: DispatchOptions): Promise<void> {
  const body = dispatchBody(options);
  const target = ctx.target();
  if (!options.wait) {
    const answer = await callApi(target, "POST", dispatchPath, rt().dispatchAnswerSchema, { body });
    ctx.print(answer, () => dispatchText(answer, ctx.io.color));
    throwIfEndedBadly(answer.command);
    return;
  }
  await followCommand(ctx, await dispatchedOrRecorded(ctx, target, body));
}

export function addCommandCommands(program: Command, ctx: CommandContext): void {
  program
    .command("dispatch")
    .description("send a message to agents as a tracked command (exit 1 when it ends other than SUCCEEDED)")
    .requiredOption("--agents <file|ids>", "a file of agent ids (one per line, or a JSON array), or ids separated by commas")
    .requiredOption("--content <text|@file>", "the message, or @path to send a file's text")
    .option("--message-id <id>", "the command's id (default cli.<random hex>); sending the same id again answers the existing command")
    .option("--max-concurrency <n|n%>", "agents in flight at once, a count or a share of the targets")
    .option("--max-errors <n|n%>", "delivery failures tolerated before the rest is not sent (ABORTED)")
    .option("--reply-timeout <seconds>", "wait this long for each agent's reply; without it, delivery is success")
    .option("--wait", "follow the command until it ends, with a live bar on a terminal")
    .action((options: DispatchOptions) => dispatch(ctx, options));

  program
    .command("command")
    .description("one command: its status, counts and a page of its agents' outcomes")
    .argument("<message_id>")
    .addOption(new Option("--outcome <outcome>", "only agents with this outcome").choices([...AGENT_OUTCOMES]))
    .option("--limit <n>", "agents per page", "100")
    .option("--cursor <cursor>", "the next page, as printed by the previous one")
    .action(async (messageId: string, options: { outcome?: string; limit: string; cursor?: string }) => {
      const query = new URLSearchParams({
        limit: options.limit,
        ...(options.outcome ? { outcome: options.outcome } : {}),
        ...(options.cursor ? { cursor: options.cursor } : {}),
      });
      const page = await callApi(ctx.target(), "GET", `${commandPath(messageId)}?${query.toString()}`, rt().commandPageSchema);
      ctx.print(page, () => commandPageText(page, ctx.io.color));
    });

  program
    .command("commands")
    .description("commands, newest first")
    .addOption(new Option("--status <status>", "only commands in this status").choices([...COMMAND_STATUSES]))
    .option("--limit <n>", "commands per page", "50")
    .option("--cursor <cursor>", "the next page, as printed by the previous one")
    .action(async (options: ListOptions) => {
      const list = await callApi(ctx.target(), "GET", `/v1/commands?${listQuery(options)}`, rt().commandListSchema);
      ctx.print(list, () => commandsTable(list, ctx.io.color));
    });

  program
    .command("cancel")
    .description("cancel a running command: batches not sent yet never are, retries stop (exit 1 when it is not running)")
    .argument("<message_id>")
    .option("--reason <text>", "recorded with the command")
    .action(async (messageId: string, options: { reason?: string }) => {
      const command = await callApi(ctx.target(), "POST", `${commandPath(messageId)}/cancel`, rt().commandViewSchema, {
        body: options.reason ? { reason: options.reason } : {},
      });
      ctx.print(command, () => commandSummary(command, ctx.io.color));
    });
}
