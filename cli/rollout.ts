/**
 * Rollouts from the CLI (docs/rollouts.md §5): `rollout start` (from a body file and/or flags),
 * `rollout status [--watch]` with a line per wave, `rollout pause|resume|abort` and `rollout list`.
 * With `--watch`, a rollout that ends ABORTED or CANCELLED exits 1, as a dispatch that ends badly.
 */
import { Option, type Command } from "commander";
import { existsSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { callApi } from "./api.ts";
import { agentIds, contentOf, listQuery, rolloutLimit, type CommandContext, type ListOptions } from "./dispatch.ts";
import { CliError, ReportedError, UsageError } from "./errors.ts";
import { rt } from "./lazy.ts";
import { ROLLOUT_FINAL_STATUSES, rolloutProgress, rolloutSettled, rolloutsTable, rolloutText } from "./rollout-format.ts";
import { ROLLOUT_STATUSES } from "./choices.ts";
import type { RolloutView } from "../lib/rollouts/schemas.ts";

export interface StartOptions {
  readonly body?: string;
  readonly id?: string;
  readonly content?: string;
  readonly agents?: string;
  readonly file?: string;
  readonly query?: string;
  readonly maxConcurrency?: string;
  readonly maxErrors?: string;
  readonly strategy?: string;
  readonly bake?: string;
  readonly replyTimeout?: string;
  readonly undoContent?: string;
  readonly template?: string;
  readonly param?: readonly string[];
  readonly startAt?: string;
  readonly expectVersion?: string;
  readonly watch?: boolean;
}

/** How often `--watch` asks again, and how many failed asks in a row it rides out (the rollout goes on regardless). */
const POLL_MS = 1000;
const POLL_FAILURES_TOLERATED = 5;

const rolloutPath = (id: string): string => `/v1/rollouts/${encodeURIComponent(id)}`;

/** `--strategy`: `all`, `linear:<n|n%>` or `exponential:<start>,<factor>[,<min_success_rate>]`. */
export function parseStrategy(text: string): Record<string, unknown> {
  const [kind, args = ""] = text.split(/:(.*)/s, 2) as [string, string?];
  if (kind === "all" && args === "") return { kind: "all" };
  if (kind === "linear" && args !== "") return { kind: "linear", wave_size: rolloutLimit(args) };
  if (kind === "exponential") {
    const parts = args.split(",").map((p) => p.trim());
    if ((parts.length === 2 || parts.length === 3) && parts.every((p) => /^\d+(\.\d+)?$/.test(p))) {
      const [start, factor, rate] = parts.map(Number) as [number, number, number?];
      return { kind: "exponential", start, factor, ...(rate !== undefined ? { min_success_rate: rate } : {}) };
    }
  }
  throw new UsageError(`--strategy is all, linear:<n|n%> or exponential:<start>,<factor>[,<min_success_rate>], not "${text}"`);
}

/** A flag of whole seconds, or a usage error naming it. */
export const wholeSeconds = (flag: string, value: string | undefined): number | undefined => {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new UsageError(`${flag} is whole seconds, not "${value}"`);
  return Number(value);
};

/** `--template NAME` or `NAME@VERSION`, with its `--param k=v`s. */
function templateOf(name: string | undefined, params: readonly string[]): Record<string, unknown> | undefined {
  if (name === undefined) {
    if (params.length > 0) throw new UsageError("--param needs --template");
    return undefined;
  }
  const match = /^([^@]+)(?:@(\d+))?$/.exec(name);
  if (!match) throw new UsageError(`--template is NAME or NAME@VERSION, not "${name}"`);
  const parameters: Record<string, string> = {};
  for (const param of params) {
    const eq = param.indexOf("=");
    if (eq <= 0) throw new UsageError(`--param is key=value, not "${param}"`);
    parameters[param.slice(0, eq)] = param.slice(eq + 1);
  }
  return { name: match[1], ...(match[2] !== undefined ? { version: Number(match[2]) } : {}), ...(params.length > 0 ? { parameters } : {}) };
}

function jsonFile(flag: string, path: string): unknown {
  if (!existsSync(path)) throw new UsageError(`${flag}: no such file ${path}`);
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new UsageError(`${flag}: ${path} is not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
}

function targetsOf(options: StartOptions): Record<string, unknown> | undefined {
  const given = [options.agents, options.file, options.query].filter((v) => v !== undefined);
  if (given.length > 1) throw new UsageError("give the targets once: --agents, --file or --query");
  if (options.query !== undefined)
    return { query: options.query.startsWith("@") ? jsonFile("--query", options.query.slice(1)) : parseJson("--query", options.query) };
  const source = options.agents ?? options.file;
  if (source === undefined) return undefined;
  if (options.file !== undefined && !existsSync(options.file)) throw new UsageError(`--file: no such file ${options.file}`);
  const ids = agentIds(source);
  if (ids.length === 0) throw new UsageError(`${options.agents !== undefined ? "--agents" : "--file"}: no agent ids in "${source}"`);
  return { agent_id_list: ids };
}

function parseJson(flag: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new UsageError(`${flag} is JSON (or @file), not "${text}"`);
  }
}

/** The POST /v1/rollouts body: `-f`'s file, with every flag given overriding its field. */
export function rolloutBody(options: StartOptions): Record<string, unknown> {
  const base = options.body === undefined ? {} : jsonFile("-f", options.body);
  if (typeof base !== "object" || base === null || Array.isArray(base))
    throw new UsageError(`-f: ${options.body} holds a JSON object, the POST /v1/rollouts body`);
  const fields: Record<string, unknown> = {
    rollout_id: options.id,
    targets: targetsOf(options),
    content: options.content === undefined ? undefined : contentOf(options.content),
    template: templateOf(options.template, options.param ?? []),
    max_concurrency: rolloutLimit(options.maxConcurrency),
    max_errors: rolloutLimit(options.maxErrors),
    reply_timeout_seconds: wholeSeconds("--reply-timeout", options.replyTimeout),
    strategy: options.strategy === undefined ? undefined : parseStrategy(options.strategy),
    bake_seconds: wholeSeconds("--bake", options.bake),
    start_at: options.startAt,
    expect_version: options.expectVersion,
    undo: options.undoContent === undefined ? undefined : { ...((base as { undo?: object }).undo ?? {}), content: contentOf(options.undoContent) },
  };
  const body: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) body[key] = value;
  if (body.targets === undefined) throw new UsageError("give the targets: --agents, --file, --query, or targets in -f's body");
  if ((body.content === undefined) === (body.template === undefined)) {
    throw new UsageError(
      body.content === undefined ? "--content: give what to send (--content, or --template NAME)" : "--content and --template: give one of them, not both",
    );
  }
  return body;
}

const FLAGS: Record<string, string> = {
  rollout_id: "--id",
  targets: "--agents/--file/--query",
  content: "--content",
  template: "--template",
  max_concurrency: "--max-concurrency",
  max_errors: "--max-errors",
  reply_timeout_seconds: "--reply-timeout",
  strategy: "--strategy",
  bake_seconds: "--bake",
  start_at: "--start-at",
  expect_version: "--expect-version",
  undo: "--undo-content",
};

/** The body checked with the route's own schema, so a mistake is a usage error (2) naming the flag, and nothing is sent. */
function checkedBody(body: Record<string, unknown>): unknown {
  const parsed = rt().startRolloutSchema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  // A key the API does not take is reported on its parent: name the key itself (e.g. -f's "templat").
  const path = [...(issue?.path ?? []), ...(issue?.code === "unrecognized_keys" ? issue.keys.slice(0, 1) : [])].map(String);
  const field = path[0] ?? "";
  throw new UsageError(`${FLAGS[field] ?? field}${path.length > 1 ? ` (${path.join(".")})` : ""}: ${issue?.message ?? "invalid"}`);
}

/** The bar goes to stderr, so stdout stays the result; only when a person watches both streams on a terminal. */
function progressStream(ctx: CommandContext): NodeJS.WritableStream | undefined {
  if (ctx.io.progress !== undefined) return ctx.io.progress ?? undefined;
  return process.stdout.isTTY && process.stderr.isTTY ? process.stderr : undefined;
}

const getRollout = (ctx: CommandContext, id: string): Promise<RolloutView> => callApi(ctx.target(), "GET", rolloutPath(id), rt().rolloutViewSchema);

/** Polls until the rollout and its undo ended, drawing its waves; returns the last view. */
async function waitForEnd(ctx: CommandContext, first: RolloutView): Promise<RolloutView> {
  const progress = rolloutProgress({ stream: progressStream(ctx), json: ctx.json(), out: ctx.io.out, color: ctx.io.color });
  let view = first;
  let failures = 0;
  try {
    progress.update(view);
    while (!rolloutSettled(view)) {
      await sleep(POLL_MS);
      try {
        view = await getRollout(ctx, view.rollout_id);
        failures = 0;
      } catch (error) {
        if (!(error instanceof CliError) || ++failures > POLL_FAILURES_TOLERATED) throw error;
      }
      progress.update(view);
    }
    return view;
  } catch (error) {
    const cause = error instanceof CliError ? error : undefined;
    throw new CliError(
      `${error instanceof Error ? error.message : String(error)}; stopped watching, the rollout goes on: gse-control rollout status ${first.rollout_id}`,
      cause?.status,
      cause?.code,
    );
  } finally {
    progress.stop();
  }
}

/** `--watch`: follows the rollout to its end, prints the final view, and exits 1 unless it SUCCEEDED. */
export async function followRollout(ctx: CommandContext, first: RolloutView): Promise<void> {
  const final = await waitForEnd(ctx, first);
  ctx.print(final, () => rolloutText(final, ctx.io.color));
  if (ROLLOUT_FINAL_STATUSES.has(final.status) && final.status !== "SUCCEEDED")
    throw new ReportedError(`the rollout ended ${final.status}${final.reason ? `: ${final.reason}` : ""}`, undefined, "rollout_ended");
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

async function start(ctx: CommandContext, options: StartOptions): Promise<void> {
  const body = checkedBody(rolloutBody(options));
  const view = await callApi(ctx.target(), "POST", "/v1/rollouts", rt().rolloutViewSchema, { body });
  if (options.watch) return followRollout(ctx, view);
  ctx.print(view, () => `${rolloutText(view, ctx.io.color)}\nfollow it: gse-control rollout status ${view.rollout_id} --watch`);
}

/** pause, resume and abort: the operator's actions, each answered with the rollout's view. */
function addAction(rollout: Command, ctx: CommandContext, action: "pause" | "resume" | "abort", description: string): void {
  rollout
    .command(action)
    .description(description)
    .argument("<rollout_id>")
    .option("--reason <text>", "recorded with the rollout")
    .action(async (id: string, options: { reason?: string }) => {
      const view = await callApi(ctx.target(), "POST", `${rolloutPath(id)}/${action}`, rt().rolloutViewSchema, {
        body: options.reason ? { reason: options.reason } : {},
      });
      ctx.print(view, () => rolloutText(view, ctx.io.color));
    });
}

export function addRolloutCommands(program: Command, ctx: CommandContext): void {
  const rollout = program.command("rollout").description("commands sent in waves, gated on errors and fleet health, with an undo (docs/rollouts.md)");

  rollout
    .command("start")
    .description("start a rollout from a POST /v1/rollouts body (-f) and/or flags; flags override the file's fields")
    .option("-f, --body <rollout.json>", "the POST /v1/rollouts body, as a JSON file")
    .option("--id <rollout_id>", "the rollout's id; starting the same id with the same body again answers the same rollout")
    .option("--content <text|@file>", "the message, or @path to send a file's text")
    .option("--agents <file|ids>", "a file of agent ids (one per line, or a JSON array), or ids separated by commas")
    .option("--file <ids.txt>", "agent ids, one per line")
    .option("--query <json|@file>", 'targets by query, e.g. \'{"labels":{"env":"prod"}}\'')
    .option("--max-concurrency <n|n%>", "agents in flight at once in a wave")
    .option("--max-errors <n|n%>", "errors (failures, timeouts, failing replies) of all waves before the rollout aborts")
    .option("--strategy <spec>", "all, linear:<n|n%> or exponential:<start>,<factor>[,<min_success_rate>]")
    .option("--bake <seconds>", "wait this long after each wave, watching the gate, before the next")
    .option("--reply-timeout <seconds>", "wait this long for each agent's reply")
    .option("--undo-content <text|@file>", "sent to the agents already touched when the rollout aborts")
    .option("--template <name[@version]>", "the template to run (its latest version by default)")
    .option("--param <key=value>", "a template parameter (repeatable)", collect)
    .option("--start-at <time>", "start at this ISO time (SCHEDULED until then)")
    .option("--expect-version <range>", "upgrades: the version (semver range) the heartbeat must report afterwards")
    .option("--watch", "follow the rollout until it ends (exit 1 unless it SUCCEEDED)")
    .action((options: StartOptions) => start(ctx, options));

  rollout
    .command("status")
    .description("one rollout: a line per wave (sent, settled, failed), the gate and the errors")
    .argument("<rollout_id>")
    .option("--watch", "follow it until it ends, redrawn on a terminal (exit 1 when it ends ABORTED or CANCELLED)")
    .action(async (id: string, options: { watch?: boolean }) => {
      const view = await getRollout(ctx, id);
      if (options.watch) return followRollout(ctx, view);
      ctx.print(view, () => rolloutText(view, ctx.io.color));
    });

  addAction(rollout, ctx, "pause", "pause a rollout: nothing new is sent; agents in flight still settle");
  addAction(rollout, ctx, "resume", "resume a paused rollout");
  addAction(rollout, ctx, "abort", "abort a rollout: the rest is not sent and its undo (if any) goes to the agents touched");

  rollout
    .command("list")
    .description("rollouts, newest first")
    .addOption(new Option("--status <status>", "only rollouts in this status").choices([...ROLLOUT_STATUSES]))
    .option("--limit <n>", "rollouts per page", "50")
    .option("--cursor <cursor>", "the next page, as printed by the previous one")
    .action(async (options: ListOptions) => {
      const list = await callApi(ctx.target(), "GET", `/v1/rollouts?${listQuery(options)}`, rt().rolloutListSchema);
      ctx.print(list, () => rolloutsTable(list, ctx.io.color));
    });
}
