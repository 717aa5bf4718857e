/**
 * What a Lambda bundle gets in place of undici's llhttp build without WebAssembly SIMD
 * (`undici/lib/llhttp/llhttp-wasm.js`, ≈70 kB; lib/bundling.ts swaps it in at build time). undici
 * compiles its SIMD build first and needs this one only where that fails: on riscv64, on ppc64
 * before Node 24.12, or with UNDICI_NO_WASM_SIMD=1. Lambda's Node.js 24 runs on x86_64 and arm64,
 * whose V8 has WebAssembly SIMD, so this module is never loaded there; if it ever is, the first
 * HTTP/1 request fails with this message rather than with a parser that quietly differs.
 */
throw new Error(
  "undici's llhttp build without WebAssembly SIMD is left out of the Lambda bundles (lib/bundling.ts), and this runtime could not use the SIMD build",
);
