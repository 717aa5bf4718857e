/**
 * `<data-dir>/dynamodb-local.pid`: the pid of the DynamoDB Local (Java) a stack started. Java does
 * not die with its parent: after a kill -9 of the supervisor it keeps its port and its files, so
 * the next start on the same directory reads this file and ends the orphan first. A pid is only
 * killed when its command line says it is that DynamoDB Local (the jar, and the marker naming this
 * very pid file): after a reboot the pid may belong to anything.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { processExists, readLockPid } from "./lock.ts";
import { StartupError } from "./process.ts";

export const DYNAMODB_PID_FILE_NAME = "dynamodb-local.pid";

export const dynamoDbPidFilePath = (dataDir: string): string => join(dataDir, DYNAMODB_PID_FILE_NAME);

/** A JVM system property that ties a DynamoDB Local process to its pid file (Java ignores it). */
export const pidFileMarker = (pidFile: string): string => `-Dgse_control.pid_file=${pidFile}`;

export function writePidFile(path: string, pid: number): void {
  writeFileSync(path, `${pid}\n`);
}

/** Removes the pid file if it still names this pid (a newer stack may have written its own). */
export function removePidFile(path: string, pid: number | undefined): void {
  if (pid === undefined || readLockPid(path) === pid) rmSync(path, { force: true });
}

/** The process's command line, its arguments joined by spaces; undefined when it is gone. */
export function commandLineOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT" && processExists(pid) && process.platform !== "linux") {
      // No /proc (macOS): ps says the same.
      const ps = spawnSync("ps", ["-ww", "-o", "args=", "-p", String(pid)], { encoding: "utf8" });
      return ps.status === 0 ? ps.stdout.trim() : undefined;
    }
    return undefined;
  }
}

/** Whether this command line is the DynamoDB Local started with this pid file. */
export function isOurDynamoDbLocal(commandLine: string | undefined, pidFile: string): boolean {
  if (commandLine === undefined) return false;
  return commandLine.includes("DynamoDBLocal.jar") && ` ${commandLine} `.includes(` ${pidFileMarker(pidFile)} `);
}

export interface OrphanDeps {
  readonly commandLine: (pid: number) => string | undefined;
  readonly kill: (pid: number, signal: NodeJS.Signals) => void;
  readonly exists: (pid: number) => boolean;
  readonly sleep: (ms: number) => Promise<unknown>;
}

/** Exists and is not a zombie (an orphan killed under an init that does not reap stays one, but holds nothing). */
export function isRunning(pid: number): boolean {
  if (!processExists(pid)) return false;
  try {
    // The state is the field after the command name in parentheses, which may itself hold spaces.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return processExists(pid);
  }
}

const realOrphanDeps: OrphanDeps = {
  commandLine: commandLineOf,
  kill: (pid, signal) => process.kill(pid, signal),
  exists: isRunning,
  sleep: (ms) => sleep(ms),
};

/**
 * Ends the DynamoDB Local a crashed stack left behind on this pid file, if there is one: SIGTERM,
 * then SIGKILL after `graceMs`. Returns its pid when one was ended. A pid file naming anything else
 * (a gone or reused pid) is just removed.
 */
export async function endOrphanDynamoDb(pidFile: string, options: { graceMs?: number; deps?: Partial<OrphanDeps> } = {}): Promise<number | undefined> {
  const deps = { ...realOrphanDeps, ...options.deps };
  const pid = readLockPid(pidFile);
  if (pid === undefined || !isOurDynamoDbLocal(deps.commandLine(pid), pidFile)) {
    rmSync(pidFile, { force: true });
    return undefined;
  }
  const graceMs = options.graceMs ?? 5000;
  for (const signal of ["SIGTERM", "SIGKILL"] as const) {
    try {
      deps.kill(pid, signal);
    } catch {
      // Gone between the check and the signal: what we wanted.
    }
    for (let waited = 0; waited < graceMs; waited += 50) {
      if (!deps.exists(pid)) {
        rmSync(pidFile, { force: true });
        return pid;
      }
      await deps.sleep(50);
    }
  }
  throw new StartupError(`DynamoDB Local left running by an earlier stack (pid ${pid}, ${pidFile}) did not stop; end it with: kill -9 ${pid}`);
}
