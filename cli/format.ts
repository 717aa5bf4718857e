/** Human output of the CLI: tables (cli-table3) and colours (picocolors, off when not a terminal). */
import Table from "cli-table3";
import { createColors } from "picocolors";
import type { z } from "zod";
import { AGENT_OUTCOMES } from "./choices.ts";
import type { AgentOutcome, CommandStatus, commandListSchema, commandPageSchema, commandViewSchema, dispatchAnswerSchema } from "../lib/commands/schemas.ts";
import type { historyPageSchema } from "../lib/config-versions/api.ts";
import type { FieldChange } from "../lib/config-versions/mask.ts";
import type { historyDataSchema, listAgentsDataSchema, summaryDataSchema } from "../lib/fleet/schemas.ts";
import type { ListAgentStateData } from "../lib/gse/schemas.ts";

type Summary = z.output<typeof summaryDataSchema>;
type AgentsPage = z.output<typeof listAgentsDataSchema>;
type History = z.output<typeof historyDataSchema>;

function palette(color: boolean) {
  const c = createColors(color);
  const status = (s: string): string =>
    s === "alive" ? c.green(s) : s === "lost" ? c.red(s) : s === "suspect" ? c.yellow(s) : s === "pending" ? c.cyan(s) : c.gray(s);
  /** A status class (lib/gse/status-class.ts) with GSE's raw code beside it: `transitional (5)`. */
  const statusClass = (cls: string | undefined, code?: number): string => {
    if (cls === undefined) return "";
    const text = code === undefined ? cls : `${cls} (${code})`;
    return cls === "alive" ? c.green(text) : cls === "degraded" || cls === "gone" ? c.red(text) : cls === "transitional" ? c.yellow(text) : c.gray(text);
  };
  return { ...c, status, statusClass };
}

const table = (head: string[]): Table.Table => new Table({ head, style: { head: [], border: [] } });

export function fleetSummary(summary: Summary, color: boolean): string {
  const c = palette(color);
  if (summary === null) return "No heartbeat poll has finished yet: the fleet is empty or the first poll is still running.";
  const statuses = table(["status", "agents"]);
  for (const [status, count] of Object.entries(summary.by_status)) statuses.push([c.status(status), String(count)]);
  statuses.push([c.status("suspect"), String(summary.suspect)]);
  const classes = table(["class (GSE status_code)", "agents"]);
  for (const [cls, count] of Object.entries(summary.by_class ?? {})) classes.push([c.statusClass(cls), String(count)]);
  const versions = table(["version", "agents", "outdated"]);
  for (const v of summary.by_version) versions.push([v.version, String(v.count), v.outdated ? c.red("yes") : ""]);
  return [
    `${summary.agents} agents as of ${summary.as_of} (poll ${summary.poll_id}, ${summary.duration_ms} ms, ${summary.gse_calls} GSE calls` +
      `${summary.gse_failed_chunks > 0 ? c.red(`, ${summary.gse_failed_chunks} chunks GSE did not answer`) : ""})`,
    statuses.toString(),
    ...(summary.by_class !== undefined ? [classes.toString()] : []),
    versions.toString(),
    summary.min_version === null ? "No minimum version set (FLEET_MIN_VERSION)." : `${summary.outdated} below the minimum version ${summary.min_version}.`,
  ].join("\n");
}

export function agentsTable(page: AgentsPage, color: boolean): string {
  const c = palette(color);
  const t = table(["agent", "status", "class", "version", "last seen", "changed", "sources"]);
  for (const a of page.agents) {
    t.push([
      a.agent_id,
      c.status(a.status),
      c.statusClass(a.status_class, a.status_code),
      `${a.version ?? ""}${a.outdated ? c.red(" (outdated)") : ""}`,
      a.last_seen ?? "never",
      a.changed_at,
      a.sources.join(","),
    ]);
  }
  return [page.agents.length === 0 ? "No agents match." : t.toString(), ...(page.next_cursor ? [`more: --cursor ${page.next_cursor}`] : [])].join("\n");
}

export function agentDetail(history: History, color: boolean): string {
  const c = palette(color);
  if (history.agent === null) return "Not watched.";
  const a = history.agent;
  const t = table(["at", "transition", "from → to", "GSE state", "version"]);
  for (const tr of history.transitions) {
    const state = tr.status_code !== undefined ? `${tr.status_code}${tr.status_name ? ` ${tr.status_name}` : ""}` : (tr.status_class ?? "");
    t.push([tr.at, tr.kind, `${c.status(tr.from)} → ${c.status(tr.to)}`, state, tr.version ?? ""]);
  }
  const cls =
    a.status_class !== undefined ? ` [${c.statusClass(a.status_class, a.status_code)}${a.transitional_since ? ` since ${a.transitional_since}` : ""}]` : "";
  return [
    `${a.agent_id}: ${c.status(a.status)}${cls}${a.version ? `, version ${a.version}` : ""}${a.outdated ? c.red(" (outdated)") : ""}, last seen ${a.last_seen ?? "never"}`,
    history.transitions.length === 0 ? "No transitions yet." : t.toString(),
    ...(history.next_cursor ? [`more: ${history.next_cursor}`] : []),
  ].join("\n");
}

export function stateTable(data: ListAgentStateData, color: boolean): string {
  const c = palette(color);
  const t = table(["agent", "cloud", "status", "version", "run mode"]);
  for (const s of data)
    t.push([
      s.bk_agent_id,
      String(s.bk_cloud_id),
      s.status_code === 2 ? c.green("running (2)") : c.yellow(String(s.status_code)),
      s.version,
      String(s.run_mode),
    ]);
  return t.toString();
}

type VersionsPage = z.output<typeof historyPageSchema>;

const when = (ms: number | undefined): string => (ms === undefined ? "" : new Date(ms).toISOString());

export function versionsTable(page: VersionsPage, color: boolean): string {
  const c = palette(color);
  const status = (s: string): string =>
    s === "APPLIED"
      ? c.green(s)
      : s === "FAILED" || s === "ROLLBACK_FAILED"
        ? c.red(s)
        : s === "ROLLED_BACK"
          ? c.yellow(s)
          : s === "REJECTED"
            ? c.gray(s)
            : c.cyan(s);
  // A refusal shows GSE's code beside its message: what the caller was answered.
  const reason = (e: { message: string; gse_code?: number | undefined } | undefined): string =>
    e ? `${e.gse_code !== undefined ? `[${e.gse_code}] ` : ""}${e.message}` : "";
  const t = table(["version", "status", "operation", "author", "created", "error"]);
  for (const v of page.versions) t.push([String(v.version), status(v.status), v.operation, v.author, when(v.created_at), reason(v.error)]);
  const head = page.head;
  const attempts = table(["add", "status", "author", "created", "error"]);
  for (const a of page.add_attempts) attempts.push([a.operation, status(a.status), a.author, when(a.created_at), reason(a.error)]);
  return [
    head === null
      ? `${page.object}: no versions`
      : `${page.object}: current ${head.current_version}, last good ${head.last_good_version}${head.pending_version === null ? "" : c.yellow(`, change ${head.pending_version} in progress`)}`,
    ...(page.versions.length > 0 ? [t.toString()] : []),
    ...(page.add_attempts.length > 0 ? ["Adds of this id that did not become a version:", attempts.toString()] : []),
    ...(page.next_cursor !== null ? [`more: --cursor ${page.next_cursor}`] : []),
  ].join("\n");
}

/** One line per changed field: + added, - removed, ~ changed; a secret says only that it changed. */
export function changesText(changes: readonly FieldChange[], color: boolean): string {
  const c = palette(color);
  if (changes.length === 0) return "No differences.";
  const show = (v: unknown): string => JSON.stringify(v);
  return changes
    .map((ch) => {
      if (ch.secret) return c.yellow(`~ ${ch.path}: (secret changed)`);
      if (ch.change === "added") return c.green(`+ ${ch.path}: ${show(ch.to)}`);
      if (ch.change === "removed") return c.red(`- ${ch.path}: ${show(ch.from)}`);
      return c.yellow(`~ ${ch.path}: ${show(ch.from)} → ${show(ch.to)}`);
    })
    .join("\n");
}

type Command = z.output<typeof commandViewSchema>;
type Counts = Command["counts"];

const commandStatus = (c: ReturnType<typeof createColors>, s: CommandStatus): string =>
  s === "SUCCEEDED" ? c.green(s) : s === "RUNNING" ? c.cyan(s) : s === "PARTIAL" || s === "CANCELLED" ? c.yellow(s) : c.red(s);

const outcome = (c: ReturnType<typeof createColors>, o: AgentOutcome): string =>
  o === "REPLIED" ? c.green(o) : o === "FAILED" || o === "TIMED_OUT" ? c.red(o) : o === "RETRYING" ? c.yellow(o) : o === "SKIPPED" ? c.gray(o) : o;

/** The non-zero outcomes, e.g. `REPLIED 98, FAILED 2`: a fleet-sized command has most of them at 0. */
export function outcomeCounts(counts: Counts, color: boolean): string {
  const c = createColors(color);
  const parts = AGENT_OUTCOMES.filter((o) => counts[o] > 0).map((o) => `${outcome(c, o)} ${counts[o]}`);
  return parts.length === 0 ? "no agents" : parts.join(", ");
}

export function commandSummary(command: Command, color: boolean): string {
  const c = createColors(color);
  const { batches, rollout } = command;
  return [
    `${command.message_id}: ${commandStatus(c, command.status)}, ${command.targets} agent${command.targets === 1 ? "" : "s"}, by ${command.created_by} at ${command.created_at}` +
      `${command.finished_at ? `, finished ${command.finished_at}` : ""}`,
    ...(command.reason ? [`reason: ${command.reason}`] : []),
    `outcomes: ${outcomeCounts(command.counts, color)}`,
    `batches ${batches.sent}/${batches.total} sent (size ${batches.size}, ${batches.parallel} at once); ` +
      `delivery errors ${rollout.errors}${rollout.max_errors === null ? "" : ` (max ${rollout.max_errors})`}` +
      `${command.reply_timeout_seconds === null ? "" : `; replies awaited ${command.reply_timeout_seconds} s`}`,
  ].join("\n");
}

export function dispatchText(answer: z.output<typeof dispatchAnswerSchema>, color: boolean): string {
  const c = createColors(color);
  const undelivered = table(["undelivered agent", "code", "message"]);
  for (const r of answer.results) undelivered.push([r.bk_agent_id, c.red(String(r.code)), r.message]);
  return [commandSummary(answer.command, color), ...(answer.results.length > 0 ? [undelivered.toString()] : [])].join("\n");
}

/** Replies are the plugin's own text, of any length: the table shows their start, `--json` all of it. */
const clip = (text: string | undefined, max = 60): string => (text === undefined ? "" : text.length > max ? `${text.slice(0, max - 1)}…` : text);

export function commandPageText(page: z.output<typeof commandPageSchema>, color: boolean): string {
  const c = createColors(color);
  const t = table(["agent", "outcome", "attempts", "GSE code", "message", "reply", "updated"]);
  for (const a of page.agents)
    t.push([
      a.bk_agent_id,
      outcome(c, a.outcome),
      String(a.attempts),
      a.code === undefined ? "" : String(a.code),
      clip(a.message),
      clip(a.reply),
      a.updated_at ?? "",
    ]);
  return [
    commandSummary(page.command, color),
    // Agents of batches not sent yet have no item of their own: they are only counted.
    page.agents.length === 0 ? "No agents to list." : t.toString(),
    ...(page.next_cursor ? [`more: --cursor ${page.next_cursor}`] : []),
  ].join("\n");
}

export function commandsTable(list: z.output<typeof commandListSchema>, color: boolean): string {
  const c = createColors(color);
  const t = table(["message id", "status", "agents", "created", "by"]);
  for (const cmd of list.commands) t.push([cmd.message_id, commandStatus(c, cmd.status), String(cmd.targets), cmd.created_at, cmd.created_by]);
  return [list.commands.length === 0 ? "No commands match." : t.toString(), ...(list.next_cursor ? [`more: --cursor ${list.next_cursor}`] : [])].join("\n");
}
