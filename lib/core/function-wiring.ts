/**
 * What a function reads of its own wiring (lib/wiring.ts) at run time: the resources it links, whose
 * config functionContext loads, and its timeout, which budgets and leases are checked against. A
 * Lambda bundle is given them at build time (GSE_FUNCTION_WIRING, taken from lib/wiring.ts by
 * lib/bundling.ts's esbuildDefine), so it carries neither lib/wiring.ts (every function's file,
 * timeout, memory and links, ≈5.4 kB) nor its helpers: esbuild drops the branch the define makes dead,
 * and the import with it. Run from source (tests, the local stack, which runs every function in one
 * process), it reads lib/wiring.ts itself.
 */
import type { FunctionKey, RuntimeWiring } from "../wiring.ts";

/** The JSON of the bundled function's key, links and timeout; defined in Lambda bundles only. */
declare const GSE_FUNCTION_WIRING: string | undefined;

/** The bundle's own wiring; asked for another function's, it fails, naming both. */
function bundledWiring(json: string, name: FunctionKey): RuntimeWiring {
  const bundled: RuntimeWiring & { readonly key: string } = JSON.parse(json);
  if (bundled.key !== name) throw new Error(`the ${bundled.key} bundle carries its own wiring only, not ${name}'s (lib/core/function-wiring.ts)`);
  return { links: bundled.links, timeoutSeconds: bundled.timeoutSeconds };
}

/** Function `name`'s links and timeout. */
export async function wiringOf(name: FunctionKey): Promise<RuntimeWiring> {
  return typeof GSE_FUNCTION_WIRING === "string" ? bundledWiring(GSE_FUNCTION_WIRING, name) : (await import("../wiring.ts")).FUNCTIONS[name];
}
