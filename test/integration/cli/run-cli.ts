/**
 * Runs `bin/gse-control.mjs` as operators do: a real process against the test stack's gateway,
 * with the caller's credentials in the environment and no profile of the machine's user. The bin
 * runs the bundle (built once here when stale), about ten times quicker to start than the sources.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import type { StackInfo } from "../../../local/stack.ts";
import { ROOT } from "../../helpers/spawn-stack.ts";

export interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export type Cli = (args: readonly string[], extraEnv?: Record<string, string | undefined>) => Promise<Run>;

export const BIN = join(ROOT, "bin", "gse-control.mjs");

/** Runs a command (`node <file> …`) to its end; `cwd` is where the CLI looks for `.data/stack.json`. */
export function runProcess(command: readonly string[], env: Record<string, string | undefined>, cwd: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, command, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.once("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

/** One build of a stale bundle per test file, before its first run, instead of one per parallel run. */
let built: Promise<Run> | undefined;

/** `home` is a directory of the test's own (HOME, the working directory, and where an absent profile would be). */
export function cliRunner(info: StackInfo, home: string): { cli: Cli; env: Record<string, string> } {
  const caller = info.credentials.caller;
  const env = { GSE_CONTROL_URL: info.gatewayUrl, GSE_CONTROL_APP_CODE: caller.bk_app_code, GSE_CONTROL_APP_SECRET: caller.bk_app_secret };
  // No profile of the machine's user may leak in.
  const base = { PATH: process.env.PATH, HOME: home, GSE_CONTROL_PROFILE: join(home, "absent.json") };
  const cli: Cli = async (args, extraEnv = env) => {
    built ??= runProcess([BIN, "--version"], base, home);
    await built;
    return runProcess([BIN, ...args], { ...base, ...extraEnv }, home);
  };
  return { cli, env };
}
