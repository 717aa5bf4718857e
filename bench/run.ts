/**
 * `npm run bench [name…] [-- --json] [--agents N]`: runs the benchmarks and rewrites each one's section
 * of BENCHMARKS.md (between `<!-- bench:<name> -->` markers) with what it measured on this
 * machine, now. With `--json` the last line printed is one JSON object: the benchmark's figures (one
 * benchmark), or an object of them by name (several).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { agentStateBenchmark } from "./agent-state.ts";
import { bundlesBenchmark } from "./bundles.ts";
import { cliBenchmark } from "./cli.ts";
import { commandsBenchmark } from "./commands.ts";
import { configVersionsBenchmark } from "./config-versions.ts";
import { costBenchmark } from "./cost.ts";
import { edgeBenchmark } from "./edge.ts";
import { heartbeatBenchmark } from "./heartbeat.ts";
import { rolloutsBenchmark } from "./rollouts.ts";
import { stackStartBenchmark } from "./stack-start.ts";
import type { Benchmark } from "./stats.ts";

const BENCHMARKS: readonly Benchmark[] = [
  edgeBenchmark,
  stackStartBenchmark,
  agentStateBenchmark,
  heartbeatBenchmark,
  configVersionsBenchmark,
  bundlesBenchmark,
  commandsBenchmark,
  rolloutsBenchmark,
  cliBenchmark,
  costBenchmark,
];
const REPORT = join(fileURLToPath(new URL("..", import.meta.url)), "BENCHMARKS.md");

function replaceSection(report: string, name: string, body: string): string {
  const start = `<!-- bench:${name} -->`;
  const end = `<!-- /bench:${name} -->`;
  const section = `${start}\n${body.trim()}\n${end}`;
  const from = report.indexOf(start);
  const to = report.indexOf(end);
  return from >= 0 && to > from ? report.slice(0, from) + section + report.slice(to + end.length) : `${report.trimEnd()}\n\n${section}\n`;
}

const args = process.argv.slice(2);
const json = args.includes("--json");
const agentsAt = args.indexOf("--agents");
const agents = agentsAt >= 0 ? Number(args[agentsAt + 1]) : undefined;
if (agents !== undefined && !(Number.isInteger(agents) && agents > 0)) {
  process.stderr.write("--agents takes a positive whole number\n");
  process.exit(2);
}
const wanted = args.filter((a, i) => !a.startsWith("--") && !(agentsAt >= 0 && i === agentsAt + 1));
const selected = wanted.length ? BENCHMARKS.filter((b) => wanted.includes(b.name)) : BENCHMARKS;
if (wanted.length && selected.length !== wanted.length) {
  process.stderr.write(`unknown benchmark; known: ${BENCHMARKS.map((b) => b.name).join(", ")}\n`);
  process.exit(2);
}

const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? "cpu"}, Node ${process.version}`;
let report = readFileSync(REPORT, "utf8");
const figures: Record<string, Record<string, unknown>> = {};
for (const benchmark of selected) {
  process.stdout.write(`\n== ${benchmark.name}\n`);
  const result = await benchmark.run(agents === undefined ? {} : { agents });
  const body = typeof result === "string" ? result : result.report;
  figures[benchmark.name] = typeof result === "string" ? { report: "markdown only (see BENCHMARKS.md)" } : result.json;
  const stamped = `${body.trim()}\n\n_Measured ${new Date().toISOString().slice(0, 10)} on ${machine} by \`npm run bench ${benchmark.name}\`._`;
  process.stdout.write(`${stamped}\n`);
  report = replaceSection(report, benchmark.name, stamped);
}
writeFileSync(REPORT, report);
process.stdout.write(`\nBENCHMARKS.md updated (${selected.map((b) => b.name).join(", ")}).\n`);
if (json) process.stdout.write(`${JSON.stringify(selected.length === 1 ? figures[selected[0]?.name ?? ""] : figures)}\n`);
