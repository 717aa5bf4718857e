/**
 * What a Lambda bundle gets for `semver` (lib/bundling.ts swaps it in at build time): the functions we
 * call, each from semver's own file, instead of its index, which requires every function and range
 * helper semver has (≈30 kB, CommonJS, so esbuild cannot shake it). The X-Ray SDK requires `semver`
 * too, for `gte` in its SDK v2 patcher, which the Tracer never calls. A name imported from `semver`
 * but missing here fails the build (esbuild's "No matching export"), so add it below.
 */
export { default as coerce } from "semver/functions/coerce.js";
export { default as gte } from "semver/functions/gte.js";
export { default as lt } from "semver/functions/lt.js";
export { default as satisfies } from "semver/functions/satisfies.js";
export { default as valid } from "semver/functions/valid.js";
export { default as validRange } from "semver/ranges/valid.js";
