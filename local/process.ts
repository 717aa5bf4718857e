import type { ChildProcess } from "node:child_process";
import { createWriteStream, mkdirSync, type WriteStream } from "node:fs";
import { createServer } from "node:net";
import { dirname } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/** Where one part of the local stack writes its output (`.data/logs/<part>.log`). */
export interface LogSink {
  readonly path: string;
  attach(child: ChildProcess): void;
  write(line: string): void;
  close(): Promise<void>;
}

export function createLogSink(path: string): LogSink {
  mkdirSync(dirname(path), { recursive: true });
  const stream: WriteStream = createWriteStream(path, { flags: "a" });
  return {
    path,
    attach(child) {
      child.stdout?.pipe(stream, { end: false });
      child.stderr?.pipe(stream, { end: false });
    },
    write(line) {
      stream.write(line.endsWith("\n") ? line : `${line}\n`);
    },
    close: () => new Promise<void>((resolve) => stream.end(() => resolve())),
  };
}

export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StartupError";
  }
}

/** Polls `probe` until it succeeds; fails early if the child exits, or at the deadline. */
export async function waitFor(label: string, child: ChildProcess | undefined, timeoutMs: number, probe: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (child && (child.exitCode !== null || child.signalCode !== null)) {
      throw new StartupError(`${label} exited during start (code ${child.exitCode ?? child.signalCode}); see its log`);
    }
    try {
      await probe();
      return;
    } catch (error) {
      lastError = error;
      await sleep(100);
    }
  }
  throw new StartupError(`${label} did not become ready in ${timeoutMs} ms: ${lastError instanceof Error ? lastError.message : String(lastError)}`);
}

export class PortBusyError extends StartupError {
  constructor(
    readonly port: number,
    readonly part: string,
    readonly flag: string,
  ) {
    super(`port ${port} for ${part} is already in use. Stop what listens there, or pick another: npm start -- ${flag} <port> (or --ports auto)`);
    this.name = "PortBusyError";
  }
}

/**
 * Refuses a busy port before anything starts, with a message that says which part and how to
 * move it. Checked on all interfaces, because DynamoDB Local and fauxqs bind 0.0.0.0.
 */
export async function assertPortFree(port: number, part: string, flag: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.once("error", (error: NodeJS.ErrnoException) => {
      reject(error.code === "EADDRINUSE" || error.code === "EACCES" ? new PortBusyError(port, part, flag) : error);
    });
    server.listen({ port, host: "0.0.0.0", exclusive: true }, () => server.close(() => resolve()));
  });
}
