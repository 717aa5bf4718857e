import { spawn, type ChildProcess } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { StackInfo } from "../../local/stack.ts";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const READY_PREFIX = "GSE_CONTROL_READY ";

export interface SpawnedStack {
  readonly info: StackInfo;
  readonly child: ChildProcess;
  /** Everything the process printed so far (stdout and stderr). */
  output(): string;
  /** Sends the signal and waits for the process to exit; returns its exit code, or the signal that ended it. */
  stop(signal?: NodeJS.Signals): Promise<number | NodeJS.Signals | null>;
}

/**
 * Starts the local stack exactly as a person would (`npm start -- <args>`, or `node --import tsx
 * local/start.ts` when `viaNpm` is false) and waits for its machine-readable ready line.
 */
export async function spawnStack(
  args: readonly string[],
  options: { viaNpm?: boolean; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<SpawnedStack> {
  const child = startProcess(args, options.viaNpm ?? false, { ...process.env, ...options.env });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal)));

  const info = await new Promise<StackInfo>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`stack not ready after ${options.timeoutMs ?? 90_000} ms:\n${output}`)), options.timeoutMs ?? 90_000);
    const check = (): void => {
      const line = output.split("\n").find((l) => l.startsWith(READY_PREFIX));
      if (line) {
        clearTimeout(timer);
        resolve(JSON.parse(line.slice(READY_PREFIX.length)) as StackInfo);
      }
    };
    child.stdout?.on("data", check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`stack exited with code ${code} before it was ready:\n${output}`));
    });
  });

  return {
    info,
    child,
    output: () => output,
    async stop(signal = "SIGINT") {
      // A terminal's Ctrl-C signals the whole foreground process group, not just npm.
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) process.kill(-child.pid, signal);
      return exited;
    },
  };
}

function startProcess(args: readonly string[], viaNpm: boolean, env: NodeJS.ProcessEnv = process.env): ChildProcess {
  const options = {
    cwd: ROOT,
    env: { ...env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
    stdio: ["ignore", "pipe", "pipe"] as ["ignore", "pipe", "pipe"],
    // Its own process group, like a program started from a shell.
    detached: true,
  };
  return viaNpm
    ? spawn("npm", ["start", "--silent", "--", ...args, "--json"], options)
    : spawn(process.execPath, ["--import", "tsx", "local/start.ts", ...args, "--json"], options);
}

/** Runs `local/start.ts` expecting it to fail at start; returns its exit code and output. */
export async function startExpectingFailure(args: readonly string[], env?: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  const child = startProcess(args, false, env);
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const timer = setTimeout(() => child.pid !== undefined && process.kill(-child.pid, "SIGKILL"), 60_000);
  const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
  clearTimeout(timer);
  return { code, output };
}

/** True while a process with this pid exists. */
export function isAlive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
