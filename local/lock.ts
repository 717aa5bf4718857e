/**
 * `<data-dir>/supervisor.lock`: one local stack per data directory. Two stacks on one directory
 * would run two DynamoDB Locals on the same files and fight over the stream checkpoints, so a
 * second start is refused at once, naming the stack that holds the directory. The lock holds the
 * holder's pid; a lock whose pid is gone was left by a crash (kill -9) and is taken over.
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { StartupError } from "./process.ts";

export const LOCK_FILE_NAME = "supervisor.lock";

export const lockFilePath = (dataDir: string): string => join(dataDir, LOCK_FILE_NAME);

/** True while a process with this pid exists (EPERM: it exists, owned by someone else). */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

export class DataDirInUseError extends StartupError {
  constructor(
    readonly dataDir: string,
    readonly holder: number,
  ) {
    super(
      `the data directory ${dataDir} is in use by another local stack (pid ${holder}, lock ${lockFilePath(dataDir)}). ` +
        "Stop that stack first, or start this one on another directory: npm start -- --data-dir <dir>",
    );
    this.name = "DataDirInUseError";
  }
}

export interface DataDirLock {
  readonly path: string;
  /** Removes the lock if it is still ours; safe to call twice. */
  release(): void;
}

/** The pid a lock file names, or undefined for an empty or garbled one (a crash mid-write). */
export function readLockPid(path: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/**
 * Takes the data directory's lock for `pid`, or throws DataDirInUseError while a live process holds
 * it. Created with O_EXCL, so of two starts racing for a free directory exactly one wins.
 */
export function acquireDataDirLock(dataDir: string, options: { pid?: number; exists?: (pid: number) => boolean } = {}): DataDirLock {
  const pid = options.pid ?? process.pid;
  const exists = options.exists ?? processExists;
  const path = lockFilePath(dataDir);
  // Twice at most: the second try follows the removal of a stale lock.
  for (let attempt = 0; attempt < 2; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, "wx", 0o644);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const holder = readLockPid(path);
      if (holder !== undefined && holder !== pid && exists(holder)) throw new DataDirInUseError(dataDir, holder);
      rmSync(path, { force: true });
      continue;
    }
    try {
      writeSync(fd, `${pid}\n`);
    } finally {
      closeSync(fd);
    }
    let released = false;
    return {
      path,
      release() {
        if (released) return;
        released = true;
        if (readLockPid(path) === pid) rmSync(path, { force: true });
      },
    };
  }
  throw new StartupError(`could not take the lock ${path}: another stack is starting on ${dataDir} at the same moment`);
}
