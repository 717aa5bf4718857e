import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { endOrphanDynamoDb, isOurDynamoDbLocal, isRunning, pidFileMarker, type OrphanDeps } from "../../../local/pid-file.ts";

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});
const pidFileIn = (): string => {
  dir = mkdtempSync(join(tmpdir(), "gse-control-pid-"));
  return join(dir, "dynamodb-local.pid");
};

const javaLine = (pidFile: string): string =>
  `java -Djava.library.path=./DynamoDBLocal_lib ${pidFileMarker(pidFile)} -jar DynamoDBLocal.jar -port 8000 -sharedDb -disableTelemetry`;

/** A fake process table: what each pid's command line is, which signals it obeys, and what it received. */
function fakeProcesses(table: Record<number, string>, obeys: readonly NodeJS.Signals[] = ["SIGTERM", "SIGKILL"]) {
  const alive = new Set(Object.keys(table).map(Number));
  const signals: [number, NodeJS.Signals][] = [];
  const deps: OrphanDeps = {
    commandLine: (pid) => (alive.has(pid) ? table[pid] : undefined),
    kill: (pid, signal) => {
      signals.push([pid, signal]);
      if (obeys.includes(signal)) alive.delete(pid);
    },
    exists: (pid) => alive.has(pid),
    sleep: async () => undefined,
  };
  return { deps, signals, alive };
}

describe("telling our DynamoDB Local by its command line", () => {
  it("is ours only with the jar and the marker naming this very pid file", () => {
    const pidFile = "/data/a/dynamodb-local.pid";
    expect(isOurDynamoDbLocal(javaLine(pidFile), pidFile)).toBe(true);
    expect(isOurDynamoDbLocal(javaLine("/data/b/dynamodb-local.pid"), pidFile)).toBe(false);
    expect(isOurDynamoDbLocal(javaLine(`${pidFile}.old`), pidFile)).toBe(false);
    expect(isOurDynamoDbLocal(`vim ${pidFileMarker(pidFile)}`, pidFile)).toBe(false);
    expect(isOurDynamoDbLocal(undefined, pidFile)).toBe(false);
  });
});

describe("ending an orphaned DynamoDB Local at start", () => {
  it("ends the DynamoDB Local a crashed stack left on this pid file with SIGTERM, removes the file, and returns its pid", async () => {
    const pidFile = pidFileIn();
    writeFileSync(pidFile, "777\n");
    const fake = fakeProcesses({ 777: javaLine(pidFile) });
    expect(await endOrphanDynamoDb(pidFile, { deps: fake.deps })).toBe(777);
    expect(fake.signals).toEqual([[777, "SIGTERM"]]);
    expect(existsSync(pidFile)).toBe(false);
  });

  it("sends SIGKILL when SIGTERM is not obeyed within the grace time", async () => {
    const pidFile = pidFileIn();
    writeFileSync(pidFile, "777\n");
    const fake = fakeProcesses({ 777: javaLine(pidFile) }, ["SIGKILL"]);
    expect(await endOrphanDynamoDb(pidFile, { graceMs: 200, deps: fake.deps })).toBe(777);
    expect(fake.signals).toEqual([
      [777, "SIGTERM"],
      [777, "SIGKILL"],
    ]);
  });

  it("says how to end it by hand when even SIGKILL does not end it", async () => {
    const pidFile = pidFileIn();
    writeFileSync(pidFile, "777\n");
    const fake = fakeProcesses({ 777: javaLine(pidFile) }, []);
    await expect(endOrphanDynamoDb(pidFile, { graceMs: 100, deps: fake.deps })).rejects.toThrow("did not stop; end it with: kill -9 777");
  });

  it("never signals a pid that is something else now (a reused pid, another data directory's DynamoDB Local); the stale file is removed", async () => {
    for (const commandLine of ["/usr/sbin/sshd -D", javaLine("/elsewhere/dynamodb-local.pid")]) {
      const pidFile = pidFileIn();
      writeFileSync(pidFile, "777\n");
      const fake = fakeProcesses({ 777: commandLine });
      expect(await endOrphanDynamoDb(pidFile, { deps: fake.deps })).toBeUndefined();
      expect(fake.signals).toEqual([]);
      expect(fake.alive.has(777)).toBe(true);
      expect(existsSync(pidFile)).toBe(false);
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  });

  it("does nothing without a pid file, or with a gone pid", async () => {
    const pidFile = pidFileIn();
    const fake = fakeProcesses({});
    expect(await endOrphanDynamoDb(pidFile, { deps: fake.deps })).toBeUndefined();
    writeFileSync(pidFile, "777\n");
    expect(await endOrphanDynamoDb(pidFile, { deps: fake.deps })).toBeUndefined();
    expect(fake.signals).toEqual([]);
  });

  it("ends a real process whose command line matches, read from /proc", async () => {
    const pidFile = pidFileIn();
    // A stand-in for the Java: a process whose arguments carry the jar's name and the marker.
    const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)", "--", "DynamoDBLocal.jar", pidFileMarker(pidFile)], { stdio: "ignore" });
    const exited = new Promise((resolve) => child.once("exit", resolve));
    await new Promise((resolve) => child.once("spawn", resolve));
    writeFileSync(pidFile, `${child.pid}\n`);
    expect(await endOrphanDynamoDb(pidFile)).toBe(child.pid);
    await exited;
    expect(isRunning(child.pid as number)).toBe(false);
    expect(existsSync(pidFile)).toBe(false);
  });
});
