import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { bundleAll, bundleEntry, bytesByPackage, sizeBudget, type Bundle } from "../local/bundle.ts";
import { QUEUES, SECRETS, TABLES, TOPICS } from "../lib/resources.ts";
import { fmt, summarize } from "./stats.ts";
import type { Benchmark } from "./stats.ts";

const SAMPLES = 5;
const REGION = "us-east-1";

/**
 * Every setting of every function, as local/stack.ts gives them to the runtime: linked resources
 * as SST_RESOURCE_* JSON, plain GSE_* settings. A function reads the ones it links and ignores the
 * rest. Nothing listens at these addresses: loading a function only builds its clients.
 */
export function functionEnvironment(): NodeJS.ProcessEnv {
  const resource = (type: string, fields: Record<string, string>): string => JSON.stringify({ type, ...fields });
  const queueUrl = (name: string): string => `https://sqs.${REGION}.amazonaws.com/000000000000/bench-${name}`;
  const secrets: Record<string, string> = {
    [SECRETS.gseAppSecret.link]: "bench-gse-app-secret",
    [SECRETS.gseSlotToken.link]: "bench-slot-token",
    [SECRETS.apiCallers.link]: JSON.stringify([{ bk_app_code: "bench", bk_app_secret: "bench-caller-secret" }]),
  };
  return {
    PATH: process.env.PATH,
    STAGE: "bench",
    LOG_LEVEL: "INFO",
    GSE_BASE_URL: "http://127.0.0.1:9",
    GSE_APP_CODE: "bk_monitorv3",
    GSE_USERNAME: "admin",
    GSE_SLOT_ID: "37",
    SST_RESOURCE_App: JSON.stringify({ name: "gse-control", stage: "bench" }),
    ...Object.fromEntries(Object.values(TABLES).map((t) => [`SST_RESOURCE_${t.link}`, resource("sst.aws.Dynamo", { name: `bench-${t.link}` })])),
    ...Object.fromEntries(
      Object.values(TOPICS).map((t) => [`SST_RESOURCE_${t.link}`, resource("sst.aws.SnsTopic", { arn: `arn:aws:sns:${REGION}:000000000000:bench-${t.name}` })]),
    ),
    ...Object.fromEntries(Object.values(QUEUES).map((q) => [`SST_RESOURCE_${q.link}`, resource("sst.aws.Queue", { url: queueUrl(q.name) })])),
    ...Object.fromEntries(
      Object.values(SECRETS).map((s) => [`SST_RESOURCE_${s.link}`, resource("sst.sst.Secret", { value: secrets[s.link] ?? "bench-secret-value" })]),
    ),
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: "bench",
    AWS_SECRET_ACCESS_KEY: "bench",
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
  };
}

/**
 * One fresh `node` that imports the bundle (or nothing) and prints performance.now(), whose
 * origin is the process start: Node's own start plus loading and evaluating the module,
 * including its top-level await of the config.
 */
function importOnce(file: string | undefined, env: NodeJS.ProcessEnv): number {
  const script = file
    ? `await import(${JSON.stringify(pathToFileURL(file).href)}); process.stdout.write("\\nIMPORTED " + performance.now()); process.exit(0);`
    : `process.stdout.write("\\nIMPORTED " + performance.now());`;
  const result = spawnSync(process.execPath, ["--input-type=module", "-e", script], { env, encoding: "utf8", timeout: 30_000 });
  const match = /IMPORTED ([\d.]+)/.exec(result.stdout);
  if (result.status !== 0 || !match) throw new Error(`importing ${file ?? "nothing"} failed (${result.status}): ${result.stderr || result.stdout}`);
  return Number(match[1]);
}

/** A bundle's imports, each run right after a bare `node` so both see the same load on the machine. */
interface Paired {
  readonly imports: number[];
  readonly bare: number[];
}

function measurePaired(file: string, env: NodeJS.ProcessEnv): Paired {
  importOnce(undefined, env); // warm the file cache; not counted
  importOnce(file, env);
  const imports: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    bare.push(importOnce(undefined, env));
    imports.push(importOnce(file, env));
  }
  return { imports, bare };
}

const kb = (bytes: number): string => fmt(bytes / 1024, 1);
const median = (samples: readonly number[]): number => summarize(samples).p50;

/** Issue 23's targets: every bundle under 500 kB, its import at most twice a bare `node` measured beside it. */
const SIZE_TARGET_BYTES = 500 * 1024;
const IMPORT_RATIO_TARGET = 2;

/**
 * Floors: bundles of libraries alone (bench/floors/), built and imported as a function's is. What a
 * function carries above the floor of the libraries it uses is its own code and what it imports.
 */
const FLOORS: readonly (readonly [name: string, entry: string, swaps?: false])[] = [
  ["(floor) empty ESM bundle", "bench/floors/empty.ts"],
  ["(floor) zod", "bench/floors/zod.ts"],
  ["(floor) undici Pool", "bench/floors/undici.ts"],
  ["(floor) DynamoDB document client, traced", "bench/floors/dynamo.ts"],
  // The same without lib/bundling.ts's swaps: the SDK's whole default credential chain, as before issue 23's second pass.
  ["(floor) DynamoDB document client, traced, SDK's default credential chain", "bench/floors/dynamo.ts", false],
  ["(floor) DynamoDB document client, no Tracer", "bench/floors/dynamo-untraced.ts"],
  ["(floor) zod + undici + DynamoDB", "bench/floors/gse-and-table.ts"],
];

interface Row {
  readonly name: string;
  readonly bundle: Bundle<string>;
  readonly unminifiedBytes: number | undefined;
  readonly budgetBytes: number | undefined;
  readonly times: Paired;
}

function figures(row: Row) {
  const importMs = median(row.times.imports);
  const bareMs = median(row.times.bare);
  const ratio = importMs / bareMs;
  return {
    name: row.name,
    bytes: row.bundle.bytes,
    import_ms: Math.round(importMs),
    bare_node_ms: Math.round(bareMs),
    ratio: Number(ratio.toFixed(2)),
    under_500kb: row.bundle.bytes < SIZE_TARGET_BYTES,
    within_2x_node: ratio <= IMPORT_RATIO_TARGET,
  };
}

const mark = (ok: boolean): string => (ok ? "yes" : "no");

function tableRow(row: Row): string {
  const f = figures(row);
  const b = row.bundle;
  const top = bytesByPackage(b.metafile)
    .slice(0, 3)
    .map(([name, bytes]) => `${name} ${kb(bytes)}`)
    .join(", ");
  const optional = (bytes: number | undefined): string => (bytes === undefined ? "–" : kb(bytes));
  return `| ${row.name} | ${kb(b.bytes)} | ${kb(b.gzipBytes)} | ${optional(row.unminifiedBytes)} | ${optional(row.budgetBytes)} | ${mark(f.under_500kb)} | ${f.import_ms} | ${f.bare_node_ms} | ${fmt(f.ratio, 2)} | ${mark(f.within_2x_node)} | ${top} |`;
}

export const bundlesBenchmark: Benchmark = {
  name: "bundles",
  async run() {
    const bundles = await bundleAll();
    const scratch = mkdtempSync(join(tmpdir(), "gse-bundles-bench-"));
    let plain: Bundle[];
    let floors: Bundle<string>[];
    try {
      plain = await bundleAll({ outDir: join(scratch, "plain"), minify: false });
      floors = [];
      for (const [name, entry, swaps] of FLOORS) floors.push(await bundleEntry(name, entry, join(scratch, "floors"), true, swaps ?? true));
      const env = functionEnvironment();
      const floorRows: Row[] = floors.map((bundle) => ({
        name: bundle.key,
        bundle,
        unminifiedBytes: undefined,
        budgetBytes: undefined,
        times: measurePaired(bundle.outfile, env),
      }));
      const rows: Row[] = bundles.map((bundle, i) => ({
        name: bundle.key,
        bundle,
        unminifiedBytes: plain[i]?.bytes,
        budgetBytes: sizeBudget(bundle.key),
        times: measurePaired(bundle.outfile, env),
      }));
      const functions = rows.map(figures);
      const bareNodeMs = Math.round(median([...floorRows, ...rows].flatMap((r) => r.times.bare)));
      const sizeMet = functions.filter((f) => f.under_500kb).length;
      const importMet = functions.filter((f) => f.within_2x_node).length;
      const report = [
        "Each function bundled as `sst deploy` bundles it (`npm run build`, local/bundle.ts: esbuild, esm, es2024, minified,",
        "keepNames, AWS SDK bundled, SST's ESM banner, the defines and Lambda module swaps of lib/bundling.ts: each function's own",
        "route scopes, links and timeout instead of the route table and lib/wiring.ts, credentials from the environment only,",
        "no llhttp build without SIMD, undici without its HTTP/2 client and fetch body code (HTTP/1.1 only), DynamoDB without",
        "endpoint discovery, no event-stream codec, semver by function, node:http the CommonJS way, the X-Ray SDK without its",
        "samplers, SDK v2 patcher, host plugins and other services' whitelist entries, zod without its JSON Schema generator",
        "except in openapi).",
        "Sizes in kB of `index.mjs`; gzip = gzip -6",
        "of it; the same bundle unminified is for comparison.",
        `Import = median of ${SAMPLES} fresh \`node\` processes (after one unrecorded) from process start to the end of`,
        "`await import(bundle)`, with every setting given (as local/stack.ts gives them): Node's own start, parsing and",
        "evaluating the bundle, the config loaded at top level, clients built. No service is called. Lambda's own init",
        `(runtime bootstrap, code download) is not in it. "node alongside" = median of a bare \`node\` started just before each`,
        `of those imports; ratio = import / node alongside. Targets (issue 23): bundle < 500 kB, ratio ≤ ${IMPORT_RATIO_TARGET}.`,
        "The floors are bundles of libraries alone (bench/floors/), built and imported the same way.",
        "",
        `Under 500 kB: ${sizeMet} of ${functions.length} functions. Import within ${IMPORT_RATIO_TARGET}× node: ${importMet} of ${functions.length}. Bare node, all samples: ${bareNodeMs} ms.`,
        "",
        "| bundle | kB | gzip kB | unminified kB | budget kB | < 500 kB | import ms | node alongside ms | ratio | ≤ 2× | largest parts (kB) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
        ...floorRows.map(tableRow),
        ...rows.map(tableRow),
      ].join("\n");
      return {
        report,
        json: {
          functions,
          floors: floorRows.map(figures),
          bare_node_ms: bareNodeMs,
          size_target_bytes: SIZE_TARGET_BYTES,
          import_ratio_target: IMPORT_RATIO_TARGET,
        },
      };
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  },
};
