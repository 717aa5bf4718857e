/**
 * What our bundles need from esbuild beyond SST's own options, given to `sst deploy` through the
 * functions' `nodejs.esbuild` and `nodejs.plugins` (infra/functions.ts, infra/lambda-plugins.ts) and
 * to `npm run build` (local/bundle.ts) alike, so the bundle measured is the bundle deployed.
 *
 * This file is also loaded by plain `node` (SST runs infra/lambda-plugins.ts in a Node.js process
 * of its own), so it keeps to erasable TypeScript and imports only Node's modules and types.
 */
import { join } from "node:path";
import type { Plugin } from "esbuild";

export const ESBUILD_DEFINE: Readonly<Record<string, string>> = {
  // undici's HTTP/1 client loads its experimental Milo parser (two WebAssembly builds, ~170 kB)
  // unless `esbuildDetection` is defined, which is how Node.js bundles undici for its own fetch.
  // We never enable Milo (undici's default is llhttp), so the parser undici uses is unchanged.
  esbuildDetection: "true",
};

/** The file whose default export `sst deploy` bundles with (`nodejs.plugins`), relative to sst.config.ts. */
export const LAMBDA_PLUGINS_FILE = "./infra/lambda-plugins.ts";

/**
 * Modules a Lambda bundle takes from our own files instead of from the package, keyed by the import
 * path as written in the importing package, each to a file relative to the project root. Each file
 * says why a Lambda never needs what it replaces. Tests, scripts and the CLI run from source and
 * keep the packages' own modules.
 */
export const LAMBDA_MODULE_SWAPS: Readonly<Record<string, string>> = {
  // The SDK's default credential chain (ini, SSO, STS, process, ECS/IMDS and the nested STS/SSO
  // clients): every client's node runtimeConfig imports it. Lambda gives credentials in env vars.
  "@aws-sdk/credential-provider-node": "lib/lambda-swaps/credentials.ts",
  // undici's fallback llhttp build for runtimes without WebAssembly SIMD (client-h1.js requires it).
  "../llhttp/llhttp-wasm.js": "lib/lambda-swaps/llhttp-without-simd.ts",
  // The SDK's event-stream codec, imported lazily by its HTTP protocols: no operation we call streams.
  "@smithy/core/event-streams": "lib/lambda-swaps/event-streams.ts",
  // semver's functions from their own files, not its index (every function and range helper).
  semver: "lib/lambda-swaps/semver.ts",
  // node:http taken the CommonJS way: an ESM import of it loads Node's internal undici (WebSocket).
  "node:http": "lib/lambda-swaps/node-http.cts",
  http: "lib/lambda-swaps/node-http.cts",
};

const exactly = (path: string): RegExp => new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}$`);

/**
 * The esbuild plugin that makes LAMBDA_MODULE_SWAPS. Only `args.path` is relied on (SST's plugin
 * bridge matches on it); undici's relative path is also checked against its importer when esbuild
 * gives one, so no other package's file of that name is swapped.
 */
export function lambdaSwapsPlugin(root: string): Plugin {
  return {
    name: "gse-control-lambda-swaps",
    setup(build) {
      for (const [from, to] of Object.entries(LAMBDA_MODULE_SWAPS)) {
        build.onResolve({ filter: exactly(from) }, (args) => {
          if (from.startsWith(".") && args.importer && !args.importer.includes("/undici/")) return undefined;
          return { path: join(root, to) };
        });
      }
    },
  };
}
