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
import { ESBUILD_DEFINE, esbuildDefine, JSON_SCHEMA_FUNCTIONS, lambdaSwapsPlugin } from "../lib/bundling.ts";
import { functionRouteScopes } from "../lib/routes.ts";
import { FUNCTIONS, type FunctionKey, runtimeWiring } from "../lib/wiring.ts";

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
 * - tree shaking: esbuild's default when bundling to esm;
 * - define and plugins: ours (lib/bundling.ts), given to SST through `nodejs.esbuild.define` and
 *   `nodejs.plugins` (infra/functions.ts): a function's own defines (esbuildDefine, with its routes'
 *   scopes; ESBUILD_DEFINE for an entry that is no function's), the Lambda-only module swaps, zod's
 *   JSON Schema generator kept where `jsonSchema` (JSON_SCHEMA_FUNCTIONS, given lib/bundling.ts's
 *   lambdaPluginsFile).
 */
export function sstEsbuildOptions(
  entry: string,
  outfile: string,
  minify = true,
  swaps = true,
  jsonSchema = false,
  define: Readonly<Record<string, string>> = ESBUILD_DEFINE,
): BuildOptions {
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
    define: { ...define },
    plugins: swaps ? [lambdaSwapsPlugin(ROOT, { jsonSchema })] : [],
    metafile: true,
    write: true,
    logLevel: "silent",
  };
}

export interface Bundle<K extends string = FunctionKey> {
  readonly key: K;
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
  return bundleEntry(
    key,
    FUNCTIONS[key].file,
    outDir,
    minify,
    true,
    JSON_SCHEMA_FUNCTIONS.has(key),
    esbuildDefine(functionRouteScopes(key), runtimeWiring(key)),
  );
}

/**
 * Bundles any entry as a function's would be (bench/bundles.ts measures floors with it), into
 * `<outDir>/<key>/`. `swaps: false` leaves out lib/bundling.ts's Lambda module swaps, to show what they save.
 */
export async function bundleEntry<K extends string>(
  key: K,
  entry: string,
  outDir: string,
  minify = true,
  swaps = true,
  jsonSchema = false,
  define: Readonly<Record<string, string>> = ESBUILD_DEFINE,
): Promise<Bundle<K>> {
  const dir = join(outDir, key);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const outfile = join(dir, "index.mjs");
  const result = await build(sstEsbuildOptions(entry, outfile, minify, swaps, jsonSchema, define));
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
 * Size budgets, in kB (1024 bytes) of index.mjs: minified, without its map. Measured 2026-12-03 by
 * `npm run build` (esbuild 0.28.2, target es2024, undici 8.14, zod 4.6, AWS SDK 3.11xx) after issue
 * 23's cuts: zod imported as `import * as z` (its locales, ~350 kB, left out), undici's Pool and
 * Agent from its own files (lib/core/undici.ts: ~420 kB of fetch, WebSocket, cache and mocks left
 * out), its Milo parser defined away (~170 kB), and, in the second pass, lib/bundling.ts's Lambda
 * module swaps: credentials from the environment only (the SDK's default chain and its nested
 * STS/SSO clients, ~130-150 kB where a client is built), undici's llhttp build without SIMD (~70 kB),
 * the SDK's event-stream codec (~15 kB), semver's functions from their own files (~8 kB); in the
 * third pass, the X-Ray SDK's parts a Lambda never runs (~29 kB: its samplers, SDK v2 patcher, host
 * plugins and the whitelist's entries for services we have no client for), zod's JSON Schema
 * generator everywhere but openapi (~17 kB) and the YAML parser out of apply_history (~115 kB); in
 * the fourth (2026-12-04), undici's HTTP/2 client (our Pool and Agent speak HTTP/1.1 only), its
 * FormData and fetch body code and the request API but `request` (~77 kB where GSE is called), and
 * the GSE paths apart from their schemas (lib/gse/paths.ts, ~6 kB of the table-only functions). The
 * largest bundle of each class, in kB (2026-12-04, fourth pass): gseConfig 444.2, gseConfigVersioned
 * 709.1, gseAgentState 713.8, gseDispatch 773.1, health 677.1, openapi 282.9, config_history 480.5,
 * config_rollback 708.1, config_drift 669.8, config_reconcile 787.1, commands 800.2, templates 494.2,
 * gse_callback 569.5, rollouts 849.4, desired 822.7, desired_reads 471.2, recovery 844.3, automation
 * 969.3, heartbeat 775.7, apm 894.4, console_page 198.2, console_data 629.7, alert_log 442.9, fleet 503.3;
 * in the fifth (2026-12-04), the functions' descriptions out of lib/wiring.ts (~4.5 kB everywhere), and out
 * of the fleet routes what they never run: semver's ranges (~12 kB: lib/fleet/view-rules.ts takes its
 * functions from their own files, the label and resolve schemas from files of their own), the fleet view
 * in the label routes, FleetStore in resolve: fleet 486.6; in the sixth (2026-12-04), DynamoDB's endpoint
 * discovery (~7.5 kB wherever a DynamoDB client is built), the route table and the GSE paths (each
 * function is given its own routes' scopes at build time: ~5–7.7 kB), metric descriptions (~0.9 kB)
 * and lib/wiring.ts (each function is given its own links and timeout: ~5 kB), every class's largest:
 * gseConfig 428.8, gseConfigVersioned 686.3, gseAgentState 691.0, gseDispatch 751.8, health 654.2,
 * openapi 277.6, config_history 455.4, config_rollback 685.2, config_drift 646.9, config_reconcile
 * 769.4, commands 784.0, templates 469.0, gse_callback 545.4, rollouts 828.0, desired 799.8,
 * desired_reads 446.0, recovery 827.8, automation 948.1, heartbeat 746.6, apm 873.2, console_page
 * 180.3, console_data 605.5, alert_log 425.2, fleet 466.0.
 * Budget = measured + 6 %, rounded up to the kB. What is left is mostly libraries (`npm run bench
 * bundles` shows the floors): the AWS SDK ≈190 where a client is used (@smithy/core ≈100 of it) and
 * the Tracer's X-Ray SDK ≈45 beside it (≈75 before the third pass's swaps), undici ≈185 (its SIMD
 * llhttp build, 72 of it) where GSE is called, zod ≈90 (≈105 with its JSON Schema generator, in openapi). The queue and stream consumers parse their records with
 * lib/core/record-schemas.ts, not Powertools' parser, whose `import { z }` brought every locale.
 */
export const SIZE_BUDGETS_KB = {
  gseConfig: 455,
  // The six versioned stream_to/route changes: the configs table (DynamoDB) besides GSE.
  gseConfigVersioned: 728,
  gseAgentState: 733,
  // A tracked command: GSE, the commands table and the automation queue.
  gseDispatch: 797,
  health: 694,
  openapi: 295,
  // Undoes failed config versions: GSE client, DynamoDB, SNS.
  recovery: 878,
  automation: 1006,
  heartbeat: 792,
  fleet: 494,
  // Config version routes and the scheduled reconcile.
  config_history: 483,
  config_rollback: 727,
  config_drift: 686,
  config_reconcile: 816,
  // Tracked commands and the slot forward; the callback (table and the forward queue).
  commands: 831,
  gse_callback: 579,
  // The status page: the page (no AWS client), its data (DynamoDB: fleet, commands, configs), the
  // alert log consumer (the fleet table).
  console_page: 192,
  console_data: 642,
  alert_log: 451,
  // APM: the apps and configs tables, commands, GSE and SNS.
  apm: 926,
  // Command templates (the commands table only).
  templates: 498,
  // Rollouts (and the console's rollout actions): commands, GSE, the fleet table, the alerts topic and
  // the automation queue.
  rollouts: 878,
  // Desired state: plan_create and plan_apply (GSE, the configs table, the YAML parser, the fleet
  // table, SNS, the queue), plan_get and apply_history (tables only).
  desired: 848,
  // plan_get and apply_history: the configs table only (no YAML parser: lib/desired/applies.ts).
  desired_reads: 473,
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
  if (key === "plan_get" || key === "apply_history") return "desired_reads";
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
