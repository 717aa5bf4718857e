/**
 * What a Lambda bundle gets for `node:http` (lib/bundling.ts swaps it in at build time): the very same
 * module, taken the CommonJS way. An ESM import of `node:http` (the Tracer's and the SDK's HTTP handler's)
 * makes Node build the module's namespace, which reads every export, and reading `http.WebSocket` loads
 * Node's internal undici: ≈11 ms of each cold start for a client no function uses. Through this module
 * esbuild hands importers a namespace whose exports are read only when used.
 */
export = process.getBuiltinModule("node:http");
