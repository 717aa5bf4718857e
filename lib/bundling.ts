/**
 * What our bundles need from esbuild beyond SST's own options, given to `sst deploy` through the
 * functions' `nodejs.esbuild` (infra/functions.ts) and to `npm run build` (local/bundle.ts) alike,
 * so the bundle measured is the bundle deployed.
 */
export const ESBUILD_DEFINE: Readonly<Record<string, string>> = {
  // undici's HTTP/1 client loads its experimental Milo parser (two WebAssembly builds, ~170 kB)
  // unless `esbuildDetection` is defined, which is how Node.js bundles undici for its own fetch.
  // We never enable Milo (undici's default is llhttp), so the parser undici uses is unchanged.
  esbuildDetection: "true",
};
