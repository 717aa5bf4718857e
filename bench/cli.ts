import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { buildCli, CLI_BUNDLE } from "../local/build-cli.ts";
import { fmt, summarize } from "./stats.ts";
import type { Benchmark } from "./stats.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const RUNS = 20;

/** Wall time of one whole process, start to exit, in ms; a failed run fails the benchmark. */
function timeRun(args: readonly string[]): number {
  const started = performance.now();
  const result = spawnSync(process.execPath, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  const ms = performance.now() - started;
  if (result.status !== 0) throw new Error(`node ${args.join(" ")} exited ${result.status}: ${result.stderr.toString()}`);
  return ms;
}

/** Runs each command in turn, RUNS rounds, so a busy moment of the machine falls on all of them alike. */
function measure(commands: readonly { label: string; args: readonly string[] }[]): Map<string, number[]> {
  const samples = new Map(commands.map((c) => [c.label, [] as number[]]));
  for (let round = 0; round < RUNS; round++) for (const c of commands) samples.get(c.label)?.push(timeRun(c.args));
  return samples;
}

export const cliBenchmark: Benchmark = {
  name: "cli",
  async run() {
    await buildCli();
    const samples = measure([
      { label: "bare `node -e 0` (the floor)", args: ["-e", "0"] },
      { label: "`gse-control --help`, the bundle (what the package installs)", args: [CLI_BUNDLE, "--help"] },
      { label: "`bin/gse-control.mjs --help` in the repo (freshness check + bundle)", args: ["bin/gse-control.mjs", "--help"] },
      { label: "`--help` from the sources through tsx (how the CLI ran before the bundle)", args: ["--import", "tsx", "cli/bin.ts", "--help"] },
    ]);
    const rows = [...samples].map(([label, ms]) => {
      const s = summarize(ms);
      return `| ${label} | ${fmt(s.p50, 0)} | ${fmt(s.max, 0)} |`;
    });
    return [
      `CLI start-up: each command run ${RUNS} times, in turn, wall time from spawn to exit (the target: \`--help\` ≤ 300 ms).`,
      "",
      "| command | median ms | max ms |",
      "|---|---|---|",
      ...rows,
    ].join("\n");
  },
};
