/**
 * `gse-control <command>`: the operator's CLI over our HTTP API (docs/operations.md, "The CLI").
 * Every command takes `--json` for scripts; exit codes: 0 done, 1 the API said no or was unreachable
 * (or a dispatched command, or a watched rollout, ended other than SUCCEEDED), 2 wrong use of the CLI or its settings, and
 * `config drift` 2 when the object drifted, `plan` 2 when the plan has changes (and 1 for any error). With `--json` a failure is `{"error": …}` on stdout.
 */
import { Command, CommanderError, Option } from "commander";
import { readFileSync } from "node:fs";
import { callApi, type Io } from "./api.ts";
import { addApmCommands } from "./apm.ts";
import { AGENT_VIEW_STATUSES, DEFAULT_TIMEOUT_SECONDS } from "./choices.ts";
import { addDesiredCommands } from "./desired.ts";
import { addCommandCommands } from "./dispatch.ts";
import { addFleetLabelCommands } from "./fleet-labels.ts";
import { addRolloutCommands } from "./rollout.ts";
import { CliError, type ErrorJson, ReportedError, UsageError } from "./errors.ts";
import { agentDetail, agentsTable, changesText, fleetSummary, stateTable, versionsTable } from "./format.ts";
import { loadRuntime, rt } from "./lazy.ts";
import type { Target } from "./target.ts";

export type { Io };

/** Set by the bundle's build (local/build-cli.ts) from packages/cli/package.json; absent when run from the sources. */
declare const GSE_CONTROL_VERSION: string | undefined;
const VERSION = typeof GSE_CONTROL_VERSION === "string" ? GSE_CONTROL_VERSION : "0.0.0-sources";

/** The exit code of `config drift` for an object that drifted (0: in sync). */
export const DRIFTED_EXIT_CODE = 2;

interface GlobalOptions {
  readonly url?: string;
  readonly json?: boolean;
  readonly profile?: string;
  readonly timeout?: string;
}

/** Ids from the arguments and/or a file (one per line, blank lines and `#` comments ignored). */
function idsFrom(args: readonly string[], file: string | undefined): string[] {
  const fromFile =
    file === undefined
      ? []
      : readFileSync(file, "utf8")
          .split("\n")
          .map((l) => l.trim())
          .filter((l) => l !== "" && !l.startsWith("#"));
  const ids = [...args, ...fromFile];
  if (ids.length === 0) throw new UsageError("give agent ids as arguments or with --file");
  return ids;
}

/** What an action leaves for `run` besides a throw: an exit code other than 0 for a result that is not a failure. */
export interface RunState {
  exitCode: number;
}

export function buildProgram(io: Io, state: RunState = { exitCode: 0 }): Command {
  const program = new Command("gse-control")
    .description("Operate gse-control: fleet, agents, agent state, config versions, tracked commands, APM apps")
    .option("--url <url>", "API base URL (default GSE_CONTROL_URL, the profile's url, the stack file's, or http://127.0.0.1:3000)")
    .option("--profile <name>", "the profile of the credentials file to use (default GSE_CONTROL_PROFILE_NAME, or the file's default)")
    .option("--timeout <seconds>", `give up on a request after this long (default ${DEFAULT_TIMEOUT_SECONDS})`)
    .option("--json", 'print the API\'s data as JSON, and a failure as {"error": …}')
    .version(VERSION)
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride()
    .showHelpAfterError()
    .hook("preAction", async () => {
      await loadRuntime();
    });

  const target = (): Target => rt().resolveTarget({ env: io.env, cwd: io.cwd ?? process.cwd() }, program.opts<GlobalOptions>());
  const print = (data: unknown, human: () => string): void => io.out(`${program.opts<GlobalOptions>().json ? JSON.stringify(data, null, 2) : human()}\n`);

  program
    .command("fleet")
    .description("the fleet as of the last heartbeat poll: counts by status, by class of GSE status code and by version, outdated agents")
    .action(async () => {
      const summary = await callApi(target(), "GET", "/v1/fleet", rt().summaryDataSchema);
      print(summary, () => fleetSummary(summary, io.color));
    });

  program
    .command("agents")
    .description("watched agents, filtered and paged")
    .addOption(new Option("--status <status>", "only agents in this state").choices([...AGENT_VIEW_STATUSES]))
    .option("--version <version>", "only agents on this version")
    .option("--outdated", "only agents below the minimum version")
    .option("--seen-before <time>", "last seen alive before this ISO time")
    .option("--seen-after <time>", "last seen alive after this ISO time")
    .option("--limit <n>", "agents per page", "100")
    .option("--cursor <cursor>", "the next page, as printed by the previous one")
    .action(
      async (options: { status?: string; version?: string; outdated?: boolean; seenBefore?: string; seenAfter?: string; limit: string; cursor?: string }) => {
        const query = new URLSearchParams({ limit: options.limit });
        if (options.status) query.set("status", options.status);
        if (options.version) query.set("version", options.version);
        if (options.outdated) query.set("outdated", "true");
        if (options.seenBefore) query.set("seen_before", options.seenBefore);
        if (options.seenAfter) query.set("seen_after", options.seenAfter);
        if (options.cursor) query.set("cursor", options.cursor);
        const page = await callApi(target(), "GET", `/v1/fleet/agents?${query.toString()}`, rt().listAgentsDataSchema);
        print(page, () => agentsTable(page, io.color));
      },
    );

  program
    .command("agent")
    .description("one agent: its state and its transitions, newest first")
    .argument("<agent_id>")
    .action(async (agentId: string) => {
      const history = await callApi(target(), "GET", `/v1/fleet/agents/${encodeURIComponent(agentId)}/history`, rt().historyDataSchema);
      print(history, () => agentDetail(history, io.color));
    });

  program
    .command("watch")
    .description("register agents with the fleet, so the heartbeat polls them")
    .argument("[agent_ids...]")
    .option("--file <path>", "agent ids, one per line")
    .action(async (ids: string[], options: { file?: string }) => {
      const result = await callApi(target(), "POST", "/v1/fleet/agents/register", rt().registerDataSchema, {
        body: { agent_id_list: idsFrom(ids, options.file) },
      });
      print(result, () => `registered ${result.registered}, already watched ${result.already_watched}`);
    });

  program
    .command("unwatch")
    .description("stop watching agents")
    .argument("[agent_ids...]")
    .option("--file <path>", "agent ids, one per line")
    .action(async (ids: string[], options: { file?: string }) => {
      const result = await callApi(target(), "POST", "/v1/fleet/agents/unregister", rt().unregisterDataSchema, {
        body: { agent_id_list: idsFrom(ids, options.file) },
      });
      print(result, () => `unregistered ${result.unregistered}, not watched ${result.not_watched}`);
    });

  program
    .command("state")
    .description("agent state as bk-monitor sees it (list_agent_state through the cache)")
    .argument("[agent_ids...]")
    .option("--file <path>", "agent ids, one per line")
    .option("--no-cache", "ask GSE, not the cache")
    .action(async (ids: string[], options: { file?: string; cache: boolean }) => {
      const data = await callApi(target(), "POST", "/api/v2/cluster/list_agent_state", rt().listAgentStateDataSchema, {
        body: { agent_id_list: idsFrom(ids, options.file) },
        headers: options.cache ? {} : { "cache-control": "no-cache" },
      });
      print(data, () => stateTable(data, io.color));
    });

  const config = program.command("config").description("versions of a stream_to or route (kind: route or streamto; id: channel or stream_to id)");
  const objectPath = (kind: string, id: string): string => {
    if (kind !== "route" && kind !== "streamto") throw new UsageError(`kind must be route or streamto, not "${kind}"`);
    if (!/^\d+$/.test(id)) throw new UsageError(`id must be a number, not "${id}"`);
    return `/v1/configs/${kind}/${id}`;
  };
  const versionNumber = (text: string): number => {
    if (!/^\d+$/.test(text)) throw new UsageError(`a version is a number, not "${text}"`);
    return Number(text);
  };

  config
    .command("history")
    .description("versions of an object, newest first, with its head")
    .argument("<kind>")
    .argument("<id>")
    .option("--limit <n>", "versions per page", "20")
    .option("--cursor <n>", "the next page, as printed by the previous one")
    .action(async (kind: string, id: string, options: { limit: string; cursor?: string }) => {
      const query = new URLSearchParams({ limit: options.limit, ...(options.cursor ? { cursor: options.cursor } : {}) });
      const page = await callApi(target(), "GET", `${objectPath(kind, id)}/versions?${query.toString()}`, rt().historyPageSchema);
      print(page, () => versionsTable(page, io.color));
    });

  config
    .command("show")
    .description("one version: its document (secrets masked), status and GSE's answer")
    .argument("<kind>")
    .argument("<id>")
    .argument("<version>")
    .action(async (kind: string, id: string, version: string) => {
      const item = await callApi(target(), "GET", `${objectPath(kind, id)}/versions/${versionNumber(version)}`, rt().versionViewSchema);
      print(item, () => JSON.stringify(item, null, 2));
    });

  config
    .command("diff")
    .description("field-level changes between two versions (a secret only says it changed)")
    .argument("<kind>")
    .argument("<id>")
    .argument("<from>")
    .argument("<to>")
    .action(async (kind: string, id: string, from: string, to: string) => {
      const diff = await callApi(target(), "GET", `${objectPath(kind, id)}/diff?from=${versionNumber(from)}&to=${versionNumber(to)}`, rt().diffDataSchema);
      print(diff, () => changesText(diff.changes, io.color));
    });

  config
    .command("rollback")
    .description("roll back to a version: a new version with its document, applied and verified like any change")
    .argument("<kind>")
    .argument("<id>")
    .argument("<version>")
    .action(async (kind: string, id: string, version: string) => {
      const item = await callApi(target(), "POST", `${objectPath(kind, id)}/rollback`, rt().versionViewSchema, { body: { version: versionNumber(version) } });
      print(item, () => `version ${item.version} (${item.operation} of version ${item.source_version ?? "?"}): ${item.status}`);
    });

  config
    .command("drift")
    .description(`the object's current version against what GSE holds now (exit ${DRIFTED_EXIT_CODE} when it drifted)`)
    .argument("<kind>")
    .argument("<id>")
    .action(async (kind: string, id: string) => {
      const report = await callApi(target(), "GET", `${objectPath(kind, id)}/drift`, rt().driftReportSchema);
      print(report, () =>
        report.in_sync
          ? `${report.object} version ${report.version}: in sync with GSE`
          : `${report.object} version ${report.version} drifted:\n${changesText(report.changes, io.color)}`,
      );
      if (!report.in_sync) state.exitCode = DRIFTED_EXIT_CODE;
    });

  addCommandCommands(program, { io, target, json: () => program.opts<GlobalOptions>().json === true, print });
  addApmCommands(program, { io, target, json: () => program.opts<GlobalOptions>().json === true, print });
  addFleetLabelCommands(program, { io, target, json: () => program.opts<GlobalOptions>().json === true, print });
  addRolloutCommands(program, { io, target, json: () => program.opts<GlobalOptions>().json === true, print });
  addDesiredCommands(program, {
    io,
    target,
    json: () => program.opts<GlobalOptions>().json === true,
    print,
    setExitCode: (code) => {
      state.exitCode = code;
    },
  });

  return program;
}

/** The `--json` flag, also when parsing failed before commander recorded it. */
function jsonWanted(program: Command, argv: readonly string[]): boolean {
  if (program.opts<GlobalOptions>().json) return true;
  const end = argv.indexOf("--");
  return (end === -1 ? argv : argv.slice(0, end)).includes("--json");
}

/** A failure as its exit code and, with `--json`, the object printed on stdout (none when the result already says it). */
export function failure(error: unknown): { exitCode: number; message: string | undefined; json: ErrorJson | undefined } {
  if (error instanceof CommanderError) {
    const exitCode = error.code === "commander.helpDisplayed" || error.code === "commander.version" || error.exitCode === 0 ? 0 : 2;
    // Commander has printed its message on stderr already.
    const message = error.message.replace(/^error: /, "");
    return { exitCode, message: undefined, json: exitCode === 0 ? undefined : { error: { message, status: null, code: error.code } } };
  }
  if (error instanceof CliError) return { exitCode: error.exitCode, message: error.message, json: error instanceof ReportedError ? undefined : error.toJson() };
  const message = error instanceof Error ? error.message : String(error);
  return { exitCode: 1, message, json: { error: { message, status: null, code: "failed" } } };
}

/** Runs the CLI; resolves to the exit code. */
export async function run(argv: readonly string[], io: Io): Promise<number> {
  const state: RunState = { exitCode: 0 };
  const program = buildProgram(io, state);
  try {
    await program.parseAsync(argv, { from: "user" });
    return state.exitCode;
  } catch (error) {
    const { exitCode, message, json } = failure(error);
    if (message !== undefined) io.err(`gse-control: ${message}\n`);
    if (json !== undefined && jsonWanted(program, argv)) io.out(`${JSON.stringify(json, null, 2)}\n`);
    return exitCode;
  }
}
