import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { fmt, summarize } from "./stats.ts";
import type { Benchmark } from "./stats.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Wall time from `node --import tsx local/start.ts` to its ready line, then a clean Ctrl-C. */
async function startOnce(): Promise<{ readyMs: number; stopMs: number }> {
  const dataDir = mkdtempSync(join(tmpdir(), "gse-bench-"));
  const started = performance.now();
  const child = spawn(process.execPath, ["--import", "tsx", "local/start.ts", "--in-memory", "--ports", "auto", "--json", "--data-dir", dataDir], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let out = "";
  await new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
      if (out.includes("GSE_CONTROL_READY")) resolve();
    });
    child.stderr.on("data", (c: Buffer) => (out += c.toString()));
    child.once("exit", (code) => reject(new Error(`stack exited ${code}: ${out}`)));
  });
  const readyMs = performance.now() - started;
  const stopping = performance.now();
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  process.kill(-(child.pid as number), "SIGINT");
  await exited;
  const stopMs = performance.now() - stopping;
  rmSync(dataDir, { recursive: true, force: true });
  return { readyMs, stopMs };
}

export const stackStartBenchmark: Benchmark = {
  name: "stack-start",
  async run() {
    const runs = [];
    for (let i = 0; i < 3; i++) runs.push(await startOnce());
    const ready = summarize(runs.map((r) => r.readyMs));
    const stop = summarize(runs.map((r) => r.stopMs));
    return [
      "Local stack (`npm start -- --in-memory --ports auto`), 3 starts from nothing: DynamoDB Local (JVM), fauxqs,",
      "GSE simulator (1000 agents), tables, queues, topic, runtime process.",
      "",
      "| | median ms | max ms |",
      "|---|---|---|",
      `| start → ready line | ${fmt(ready.p50, 0)} | ${fmt(ready.max, 0)} |`,
      `| Ctrl-C → every process exited | ${fmt(stop.p50, 0)} | ${fmt(stop.max, 0)} |`,
    ].join("\n");
  },
};
