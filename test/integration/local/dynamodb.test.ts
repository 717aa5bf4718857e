/**
 * DynamoDB Local's Java against the ways a start can fail: it must not be left running with
 * nobody to stop it.
 */
import getPort from "get-port";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startDynamoDbLocal } from "../../../local/dynamodb.ts";
import { pidFileMarker } from "../../../local/pid-file.ts";
import { createLogSink } from "../../../local/process.ts";

const dir = mkdtempSync(join(tmpdir(), "gse-control-dynamodb-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Pids of the processes whose command line carries this marker (from /proc). */
function processesWith(marker: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").includes(marker)) found.push(Number(entry));
    } catch {
      // Gone while we looked.
    }
  }
  return found;
}

describe("DynamoDB Local's start", () => {
  it("kills the Java it started when it is not ready in time, and removes its pid file", async () => {
    const pidFile = join(dir, "dynamodb-local.pid");
    const log = createLogSink(join(dir, "dynamodb.log"));
    // 1 ms: the first probe is refused before the JVM listens, so the wait gives up with Java alive.
    await expect(startDynamoDbLocal({ port: await getPort(), log, pidFile, readyTimeoutMs: 1 })).rejects.toThrow("DynamoDB Local did not become ready in 1 ms");
    await log.close();
    expect(processesWith(pidFileMarker(pidFile))).toEqual([]);
    expect(existsSync(pidFile)).toBe(false);
  });
});
