/**
 * Runs `bin/gse-control.mjs` as operators do: a real process against the test stack's gateway,
 * with the caller's credentials in the environment and no profile of the machine's user.
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

/** `home` is a directory of the test's own (HOME and where an absent profile would be). */
export function cliRunner(info: StackInfo, home: string): { cli: Cli; env: Record<string, string> } {
  const caller = info.credentials.caller;
  const env = { GSE_CONTROL_URL: info.gatewayUrl, GSE_CONTROL_APP_CODE: caller.bk_app_code, GSE_CONTROL_APP_SECRET: caller.bk_app_secret };
  const cli: Cli = (args, extraEnv = env) =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, ["bin/gse-control.mjs", ...args], {
        cwd: ROOT,
        // No profile of the machine's user may leak in.
        env: { PATH: process.env.PATH, HOME: home, GSE_CONTROL_PROFILE: join(home, "absent.json"), ...extraEnv },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
      child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
      child.once("exit", (code) => resolve({ code, stdout, stderr }));
    });
  return { cli, env };
}
