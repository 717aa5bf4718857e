import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { acquireDataDirLock, DataDirInUseError, lockFilePath } from "../../../local/lock.ts";

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));
const freshDir = (): string => {
  dir = mkdtempSync(join(tmpdir(), "gse-control-lock-"));
  return dir;
};

describe("the data directory lock", () => {
  it("is taken on a free directory with the holder's pid inside, and released by removing it", () => {
    const dataDir = freshDir();
    const lock = acquireDataDirLock(dataDir, { pid: 4242, exists: () => true });
    expect(readFileSync(lockFilePath(dataDir), "utf8")).toBe("4242\n");
    lock.release();
    expect(() => readFileSync(lockFilePath(dataDir))).toThrow(/ENOENT/);
  });

  it("refuses a second holder while the first one's pid is alive, naming the pid, the directory and how to start elsewhere, and leaves the lock as it was", () => {
    const dataDir = freshDir();
    acquireDataDirLock(dataDir, { pid: 4242, exists: () => true });
    const attempt = () => acquireDataDirLock(dataDir, { pid: 5151, exists: (pid) => pid === 4242 });
    expect(attempt).toThrow(DataDirInUseError);
    expect(attempt).toThrow(`the data directory ${dataDir} is in use by another local stack (pid 4242, lock ${lockFilePath(dataDir)})`);
    expect(attempt).toThrow("npm start -- --data-dir <dir>");
    expect(readFileSync(lockFilePath(dataDir), "utf8")).toBe("4242\n");
  });

  it("takes over a lock whose pid is gone (a holder killed with SIGKILL)", () => {
    const dataDir = freshDir();
    acquireDataDirLock(dataDir, { pid: 4242, exists: () => true });
    acquireDataDirLock(dataDir, { pid: 5151, exists: (pid) => pid !== 4242 });
    expect(readFileSync(lockFilePath(dataDir), "utf8")).toBe("5151\n");
  });

  it("takes over an empty or garbled lock (a crash while it was written)", () => {
    const dataDir = freshDir();
    for (const text of ["", "not a pid\n", "-3\n"]) {
      writeFileSync(lockFilePath(dataDir), text);
      const lock = acquireDataDirLock(dataDir, { pid: 5151, exists: () => true });
      expect(readFileSync(lockFilePath(dataDir), "utf8")).toBe("5151\n");
      lock.release();
    }
  });

  it("checks a real pid: this process holds it, a second taker is refused", () => {
    const dataDir = freshDir();
    const lock = acquireDataDirLock(dataDir);
    expect(() => acquireDataDirLock(dataDir, { pid: process.pid + 1 })).toThrow(`(pid ${process.pid},`);
    lock.release();
  });

  it("is not removed by a holder that lost it: release leaves a newer stack's lock alone", () => {
    const dataDir = freshDir();
    const old = acquireDataDirLock(dataDir, { pid: 4242, exists: () => true });
    // 4242 was presumed dead and its lock taken over; its own release comes late.
    acquireDataDirLock(dataDir, { pid: 5151, exists: (pid) => pid !== 4242 });
    old.release();
    expect(readFileSync(lockFilePath(dataDir), "utf8")).toBe("5151\n");
  });
});
