#!/usr/bin/env node
/**
 * The CLI in the repo. It runs the bundle (dist/cli/gse-control.mjs, `npm run build:cli`) when no
 * file it was built from changed since; otherwise it builds it first (esbuild: ~2 s, once), and only
 * when that fails (or GSE_CONTROL_NO_BUILD=1) runs the sources through tsx (~2.5 s every time). Building on first use rather
 * than in a `prepare` script: a `git pull` or an edit makes the bundle stale without any install,
 * and `npm ci --omit=dev` has no esbuild to prepare with.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bundle = join(root, "dist", "cli", "gse-control.mjs");
const inputsFile = join(root, "dist", "cli", "gse-control.inputs.json");

/** Fresh: built after the last change to every input (a few hundred stats, a few ms). */
function fresh() {
  if (!existsSync(bundle) || !existsSync(inputsFile)) return false;
  const built = statSync(inputsFile).mtimeMs;
  try {
    return JSON.parse(readFileSync(inputsFile, "utf8")).every((input) => statSync(join(root, input)).mtimeMs <= built);
  } catch {
    // An input is gone: the sources moved on.
    return false;
  }
}

let tsx = false;
async function viaTsx() {
  if (tsx) return;
  const { register } = await import("tsx/esm/api");
  register();
  tsx = true;
}

let useBundle = fresh();
if (!useBundle && process.env.GSE_CONTROL_NO_BUILD !== "1") {
  try {
    await viaTsx();
    const { buildCli } = await import("../local/build-cli.ts");
    await buildCli();
    useBundle = true;
  } catch (error) {
    process.stderr.write(`gse-control: could not build the CLI bundle (${error instanceof Error ? error.message : String(error)}); running the sources\n`);
  }
}
if (useBundle) await import(pathToFileURL(bundle).href);
else {
  await viaTsx();
  await import("../cli/bin.ts");
}
