/**
 * `npm run build`: bundles every function in FUNCTIONS the way `sst deploy` does, into
 * `dist/functions/<key>/index.mjs` (+ `.map` and `meta.json`, esbuild's metafile), and prints
 * each bundle's size. The size-budget test and `npm run bench bundles` use the same code.
 *
 * SST bundles in its Go CLI (pkg/runtime/node/build.go), which is not here; the options below
 * copy what that file does for a deployed (not `sst dev`) nodejs24.x function given our
 * `nodejs: { format: "esm", minify: true }` (infra/functions.ts).
 */
import { build, type BuildOptions, type Metafile } from "esbuild";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { FUNCTIONS, type FunctionKey } from "../lib/wiring.ts";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const DEFAULT_OUT_DIR = join(ROOT, "dist", "functions");

/**
 * The banner SST 4.17.1 puts on every ESM bundle (the same lines are in the `sst` binary under
 * node_modules/sst-linux-x64), so CommonJS code inside the bundle finds `require`, `__filename`
 * and `__dirname`.
 */
export const SST_ESM_BANNER = [
  `import { createRequire as topLevelCreateRequire } from 'module';`,
  `const require = topLevelCreateRequire(import.meta.url);`,
  `import { fileURLToPath as topLevelFileUrlToPath, URL as topLevelURL } from "url"`,
  `const __filename = topLevelFileUrlToPath(import.meta.url)`,
  `const __dirname = topLevelFileUrlToPath(new topLevelURL(".", import.meta.url))`,
  "",
].join("\n");

/**
 * esbuild options for one function, as SST sets them:
 * - bundle, platform node, format esm, mainFields module,main, keepNames, metafile: fixed in build.go;
 * - target es2024: Node 24 (nodejs24.x) runs all of ES2024; build.go targets the runtime's ES level;
 * - minify (whitespace, syntax, identifiers): build.go minifies only when `nodejs.minify` arrives
 *   true, whatever the docs' default says, so infra/functions.ts sets it;
 * - sourcemap linked: always generated; left unset in infra/functions.ts, SST keeps it out of the
 *   function zip (with `sourcemap: true` it would ship inside it);
 * - external: only `sharp`, `pg-native` and `nodejs.install` (we list none), so the AWS SDK is bundled;
 * - tree shaking: esbuild's default when bundling to esm.
 */
export function sstEsbuildOptions(entry: string, outfile: string, minify = true): BuildOptions {
  return {
    absWorkingDir: ROOT,
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "es2024",
    mainFields: ["module", "main"],
    external: ["sharp", "pg-native"],
    keepNames: true,
    minify,
    treeShaking: true,
    sourcemap: "linked",
    banner: { js: SST_ESM_BANNER },
    metafile: true,
    write: true,
    logLevel: "silent",
  };
}

export interface Bundle {
  readonly key: FunctionKey;
  /** Source entry, relative to the project root. */
  readonly entry: string;
  readonly outfile: string;
  /** Size of index.mjs alone, without its source map. */
  readonly bytes: number;
  readonly gzipBytes: number;
  readonly mapBytes: number;
  readonly metafile: Metafile;
}

export interface BundleOptions {
  /** Defaults to dist/functions. */
  readonly outDir?: string;
  /** Defaults to every function in FUNCTIONS. */
  readonly keys?: readonly FunctionKey[];
  /** SST's default; false shows what an unminified deploy would ship. */
  readonly minify?: boolean;
}

export async function bundleFunction(key: FunctionKey, outDir: string = DEFAULT_OUT_DIR, minify = true): Promise<Bundle> {
  const entry = FUNCTIONS[key].file;
  const dir = join(outDir, key);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const outfile = join(dir, "index.mjs");
  const result = await build(sstEsbuildOptions(entry, outfile, minify));
  const metafile = result.metafile as Metafile;
  writeFileSync(join(dir, "meta.json"), JSON.stringify(metafile));
  const code = readFileSync(outfile);
  return {
    key,
    entry,
    outfile,
    bytes: code.length,
    gzipBytes: gzipSync(code).length,
    mapBytes: readFileSync(`${outfile}.map`).length,
    metafile,
  };
}

/**
 * Bundles the functions one after another, each in a build of its own as SST does. (On 2 cores
 * that took 5 s for 15 functions; starting them all at once took 7 s.)
 */
export async function bundleAll(options: BundleOptions = {}): Promise<Bundle[]> {
  const bundles: Bundle[] = [];
  for (const key of options.keys ?? (Object.keys(FUNCTIONS) as FunctionKey[])) {
    bundles.push(await bundleFunction(key, options.outDir ?? DEFAULT_OUT_DIR, options.minify ?? true));
  }
  return bundles;
}

/** The npm package a metafile input path belongs to, or undefined for project files. */
export function packageOf(input: string): string | undefined {
  const at = input.lastIndexOf("node_modules/");
  if (at < 0) return undefined;
  const parts = input.slice(at + "node_modules/".length).split("/");
  return parts[0]?.startsWith("@") ? `${parts[0]}/${parts[1] ?? ""}` : parts[0];
}

/** Bytes each package (or "(project)") contributes to the output, largest first. */
export function bytesByPackage(metafile: Metafile): [string, number][] {
  const totals = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const name = packageOf(input) ?? "(project)";
      totals.set(name, (totals.get(name) ?? 0) + bytesInOutput);
    }
  }
  return [...totals].sort((a, b) => b[1] - a[1]);
}

/** `@aws-sdk/client-*` packages with any file in the bundle. */
export function awsClientsBundled(metafile: Metafile): string[] {
  const names = new Set(
    Object.keys(metafile.inputs)
      .map(packageOf)
      .filter((p): p is string => p?.startsWith("@aws-sdk/client-") === true),
  );
  return [...names].sort();
}

/**
 * The AWS clients the function's own code uses: `@aws-sdk/client-*` imported by a project file
 * in the bundle; `@aws-sdk/lib-dynamodb` counts as the DynamoDB client it wraps.
 */
export function awsClientsUsed(metafile: Metafile): string[] {
  const used = new Set<string>();
  for (const [input, { imports }] of Object.entries(metafile.inputs)) {
    if (packageOf(input) !== undefined) continue;
    for (const { original } of imports) {
      if (original?.startsWith("@aws-sdk/client-")) used.add(original.split("/").slice(0, 2).join("/"));
      if (original === "@aws-sdk/lib-dynamodb") used.add("@aws-sdk/client-dynamodb");
    }
  }
  return [...used].sort();
}

/**
 * Size budgets, in kB (1024 bytes) of index.mjs: minified, without its map. Measured 2026-12-02 by
 * `npm run build` (esbuild 0.28.2, Node v24.21.0, target es2024) with undici 8, Powertools Metrics
 * and Tracer and the parser; the largest bundle of each class, in kB: gseConfig 1423.2,
 * gseConfigVersioned 1821.2, gseAgentState 1854.6, gseDispatch 1855.1, health 1808.3, openapi
 * 579.3, recovery 1934.3, automation 1998.2, heartbeat 1878.2, fleet 1049.7, apm 1927.4, commands
 * 1852.4, console_data 1123.3.
 * Budget = measured + 17 %, rounded up to 10 kB. undici (≈745 since undici 8; ≈540 with 7) and zod
 * (≈460, 260 of it locales) are most of every bundle, the AWS SDK ≈400 where a client is used, the
 * Tracer (aws-xray-sdk-core and its capture of the SDK) ≈130 where a client is used, Metrics ≈15 in
 * every bundle; `bytesByPackage` shows it.
 */
export const SIZE_BUDGETS_KB = {
  gseConfig: 1670,
  // The six versioned stream_to/route changes: the configs table (DynamoDB) besides GSE.
  gseConfigVersioned: 2140,
  gseAgentState: 2170,
  // A tracked command: GSE, the commands table and the automation queue.
  gseDispatch: 2180,
  health: 2120,
  openapi: 680,
  // Undoes failed config versions: GSE client, DynamoDB, SNS.
  recovery: 2270,
  automation: 2340,
  heartbeat: 2200,
  fleet: 1230,
  // Config version routes and the scheduled reconcile: 1049.1, 1820.4, 1811.8, 1843.1 kB.
  config_history: 1230,
  config_rollback: 2130,
  config_drift: 2120,
  config_reconcile: 2160,
  // Tracked commands and the slot forward: 1852.4 kB at most; the callback (table and the forward
  // queue) 1093.4 kB.
  commands: 2170,
  gse_callback: 1280,
  // The status page: the page 550.0 kB (no AWS client), its data 1123.3 kB (DynamoDB: fleet,
  // commands, configs), the alert log consumer 1035.3 kB (the fleet table).
  console_page: 650,
  console_data: 1320,
  alert_log: 1220,
  // APM: the apps and configs tables, commands, GSE and SNS.
  apm: 2260,
  // Command templates (the commands table only): 1056.0 kB at most.
  templates: 1160,
  // Rollouts (and the console's rollout actions): commands, GSE, the fleet table, the alerts topic and
  // the automation queue: 1960.2 kB at most.
  rollouts: 2060,
  // Desired state: plan_create 1941.6 kB (GSE, the configs table, the YAML parser), plan_apply
  // 1910.4 kB (with the contract stub of applyPlan; also the fleet table, SNS, the queue), plan_get
  // and apply_history 1174.9 kB at most. Re-measure once the apply engine is in.
  desired: 2040,
} as const;

export type BudgetClass = keyof typeof SIZE_BUDGETS_KB;

/** The GSE operations that change configuration, and so write its versions. */
export const VERSIONED_CONFIG_OPERATIONS: ReadonlySet<string> = new Set([
  "add_streamto",
  "update_streamto",
  "delete_streamto",
  "add_route",
  "update_route",
  "delete_route",
]);

/** A function's budget in bytes. */
export const sizeBudget = (key: FunctionKey): number => SIZE_BUDGETS_KB[budgetClass(key)] * 1024;

const isBudgetClass = (name: string): name is BudgetClass => Object.hasOwn(SIZE_BUDGETS_KB, name);

/**
 * Which budget a function falls under: the GSE operations by what they touch (the config ones
 * call GSE only), the others by name. A new function outside functions/gse/ has no budget until
 * one is measured and added above.
 */
export function budgetClass(key: FunctionKey): BudgetClass {
  if (key === "list_agent_state" || key === "get_agent_status") return "gseAgentState";
  if (key === "dispatch_message") return "gseDispatch";
  if (VERSIONED_CONFIG_OPERATIONS.has(key)) return "gseConfigVersioned";
  if (isBudgetClass(key)) return key;
  if (FUNCTIONS[key].file.startsWith("functions/fleet/")) return "fleet";
  if (FUNCTIONS[key].file.startsWith("functions/commands/")) return "commands";
  if (FUNCTIONS[key].file.startsWith("functions/apm/")) return "apm";
  if (FUNCTIONS[key].file.startsWith("functions/templates/")) return "templates";
  if (FUNCTIONS[key].file.startsWith("functions/rollouts/") || key === "console_rollout_action") return "rollouts";
  if (FUNCTIONS[key].file.startsWith("functions/desired/")) return "desired";
  if (FUNCTIONS[key].file.startsWith("functions/gse/")) return "gseConfig";
  throw new Error(`no size budget for function ${key}: run \`npm run build\` and add one to SIZE_BUDGETS_KB in local/bundle.ts`);
}

async function main(): Promise<void> {
  const started = performance.now();
  const bundles = await bundleAll();
  const rows = bundles.map((b) => [b.key, String(b.bytes), String(b.gzipBytes), String(b.mapBytes), String(sizeBudget(b.key))]);
  const header = ["function", "bundle bytes", "gzip bytes", "map bytes", "budget bytes"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join("  ");
  process.stdout.write(`${line(header)}\n${rows.map(line).join("\n")}\n`);
  process.stdout.write(`\n${bundles.length} bundles in ${relative(ROOT, DEFAULT_OUT_DIR)}/ (${Math.round(performance.now() - started)} ms)\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
