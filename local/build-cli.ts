/**
 * `npm run build:cli`: the CLI as one ESM file with every dependency inlined, so it starts in a
 * tenth of the time tsx takes over the sources and installs without the repo:
 *   dist/cli/gse-control.mjs              what bin/gse-control.mjs runs in the repo, and its
 *   dist/cli/chunks/*.mjs                 lazily loaded parts (zod and the schemas: cli/runtime.ts)
 *   dist/cli/gse-control.inputs.json      the files it was built from (bin/ rebuilds when one is newer)
 *   dist/cli/meta.json                    esbuild's metafile: what each input adds (esbuild.github.io/analyze)
 *   packages/cli/dist/                    the same files for the publishable package, beside
 *   packages/cli/dist/THIRD-PARTY-LICENSES.txt   the licenses of what it inlines
 * Each file is written under another name and renamed, so CLIs started meanwhile never read half a file.
 */
import { build, type Metafile, type Plugin } from "esbuild";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const CLI_ENTRY = "cli/bin.ts";
export const CLI_BUNDLE = join(ROOT, "dist", "cli", "gse-control.mjs");
export const CLI_INPUTS = join(ROOT, "dist", "cli", "gse-control.inputs.json");
export const PACKAGE_DIR = join(ROOT, "packages", "cli");
export const PACKAGE_DIST = join(PACKAGE_DIR, "dist");
const CLI_DIST = dirname(CLI_BUNDLE);

/**
 * The CLI imports only schemas from lib/, but some sit beside the code that runs them (the drift
 * report's schema in reconcile.ts, which imports the stores and so the AWS SDK). lib/ keeps its
 * clients and loggers out of module scope (STYLE.md, rule 2), so a lib/ file nothing uses may be
 * dropped, and the server-side packages are left out: were any still imported, the check after the
 * build fails it (the package has no dependencies to find them in).
 */
const SERVER_ONLY = /^(@aws-sdk|@smithy|@aws-lambda-powertools|@middy|@aws)\//;
const cliOnly: Plugin = {
  name: "cli-only",
  setup(b) {
    const lib = `${join(ROOT, "lib")}/`;
    b.onResolve({ filter: SERVER_ONLY }, (args) => ({ path: args.path, external: true }));
    b.onResolve({ filter: /^\.\.?\// }, async (args) => {
      if (args.pluginData === "resolving") return undefined;
      const result = await b.resolve(args.path, { resolveDir: args.resolveDir, kind: args.kind, importer: args.importer, pluginData: "resolving" });
      if (result.errors.length > 0) return { errors: result.errors };
      return { path: result.path, sideEffects: !result.path.startsWith(lib) };
    });
  },
};

/** Every import the bundle still makes must be Node's own. */
function assertSelfContained(metafile: Metafile): void {
  const outside = Object.entries(metafile.outputs).flatMap(([file, out]) =>
    out.imports.filter((i) => i.external && !i.path.startsWith("node:") && !builtinModules.includes(i.path)).map((i) => `${i.path} (from ${file})`),
  );
  if (outside.length > 0) throw new Error(`the CLI bundle still imports packages it cannot carry: ${outside.join(", ")}`);
}

/**
 * - target node20: the oldest Node the package's `engines` admits; every dependency the bundle
 *   inlines runs there (commander 15 and undici 8 ask for Node 22 for reasons a bundle does not
 *   have: require() of ESM, and undici's own fetch/WebSocket parts we do not call) — the package
 *   test runs the bundle on the system Node to hold this;
 * - the banner gives CommonJS dependencies (cli-table3, cli-progress) a `require` for Node's own modules;
 * - keepNames: the error classes' names stay readable.
 */
async function bundle(version: string): Promise<{ files: { path: string; contents: Uint8Array }[]; metafile: Metafile }> {
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: [{ in: CLI_ENTRY, out: "gse-control" }],
    outdir: CLI_DIST,
    outExtension: { ".js": ".mjs" },
    splitting: true,
    chunkNames: "chunks/[name]-[hash]",
    bundle: true,
    platform: "node",
    format: "esm",
    target: ["node20", "es2024"],
    mainFields: ["module", "main"],
    minify: true,
    keepNames: true,
    treeShaking: true,
    legalComments: "none",
    banner: {
      js: `#!/usr/bin/env node\nimport { createRequire as __gseCreateRequire } from "node:module";\nconst require = __gseCreateRequire(import.meta.url);`,
    },
    define: { GSE_CONTROL_VERSION: JSON.stringify(version) },
    metafile: true,
    write: false,
    plugins: [cliOnly],
    logLevel: "silent",
  });
  assertSelfContained(result.metafile);
  const files = result.outputFiles.map((f) => ({ path: relative(CLI_DIST, f.path), contents: f.contents }));
  if (!files.some((f) => f.path === "gse-control.mjs")) throw new Error("esbuild wrote no gse-control.mjs");
  return { files, metafile: result.metafile };
}

function writeAtomically(path: string, content: string | Uint8Array, mode = 0o644): void {
  mkdirSync(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, content, { mode });
  renameSync(temp, path);
}

/** The packages the bundle inlines, each with its license text (the MIT family asks for it to travel with the code). */
function thirdPartyLicenses(metafile: Metafile): string {
  const dirs = new Set<string>();
  for (const input of Object.keys(metafile.inputs)) {
    const match = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (match) dirs.add(match[1]!);
  }
  return [...dirs]
    .sort()
    .map((dir) => {
      const pkg = JSON.parse(readFileSync(join(ROOT, dir, "package.json"), "utf8")) as { name: string; version: string; license?: string };
      const file = readdirSync(join(ROOT, dir)).find((f) => /^(license|licence|copying)/i.test(f));
      const text = file ? readFileSync(join(ROOT, dir, file), "utf8").trim() : `(no license file; package.json says ${pkg.license ?? "nothing"})`;
      return `${pkg.name}@${pkg.version} (${pkg.license ?? "unknown"})\n\n${text}\n`;
    })
    .join(`\n${"-".repeat(72)}\n\n`);
}

export interface CliBuild {
  /** The entry's size: what every start reads. */
  readonly entryBytes: number;
  readonly bytes: number;
  readonly inputs: readonly string[];
}

/** The chunks first, the entry last (a CLI started meanwhile finds every chunk its entry names), then chunks of older builds go. */
function writeOutput(dir: string, files: readonly { path: string; contents: Uint8Array }[]): void {
  const ordered = [...files].sort((a, b) => Number(a.path === "gse-control.mjs") - Number(b.path === "gse-control.mjs"));
  for (const f of ordered) writeAtomically(join(dir, f.path), f.contents, 0o755);
  const chunks = join(dir, "chunks");
  const current = new Set(files.map((f) => f.path));
  for (const old of existsSync(chunks) ? readdirSync(chunks) : []) if (!current.has(`chunks/${old}`)) rmSync(join(chunks, old), { force: true });
}

/** Builds the bundle into dist/cli and the package. */
export async function buildCli(): Promise<CliBuild> {
  const pkg = JSON.parse(readFileSync(join(PACKAGE_DIR, "package.json"), "utf8")) as { version: string };
  const { files, metafile } = await bundle(pkg.version);
  // The build's own settings are an input too: a changed build makes the old bundle stale.
  const inputs = [...Object.keys(metafile.inputs), relative(ROOT, fileURLToPath(import.meta.url)), relative(ROOT, join(PACKAGE_DIR, "package.json"))];
  writeOutput(CLI_DIST, files);
  writeOutput(PACKAGE_DIST, files);
  writeAtomically(join(PACKAGE_DIST, "THIRD-PARTY-LICENSES.txt"), thirdPartyLicenses(metafile));
  writeAtomically(join(CLI_DIST, "meta.json"), JSON.stringify(metafile));
  // Written last: a bundle is fresh only once its inputs list is there.
  writeAtomically(CLI_INPUTS, JSON.stringify(inputs));
  return {
    entryBytes: files.find((f) => f.path === "gse-control.mjs")!.contents.length,
    bytes: files.reduce((sum, f) => sum + f.contents.length, 0),
    inputs,
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = performance.now();
  const built = await buildCli();
  process.stdout.write(
    `gse-control CLI: ${(built.bytes / 1024).toFixed(0)} kB (entry ${(built.entryBytes / 1024).toFixed(0)} kB) from ${built.inputs.length} files in ${Math.round(performance.now() - started)} ms → ${relative(ROOT, CLI_DIST)}/, ${relative(ROOT, PACKAGE_DIST)}/\n`,
  );
}
