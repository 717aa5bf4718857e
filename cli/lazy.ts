/** The one door to cli/runtime.ts: loaded before any action runs, then read synchronously. */
type Runtime = typeof import("./runtime.ts");

let runtime: Runtime | undefined;

export async function loadRuntime(): Promise<Runtime> {
  runtime ??= await import("./runtime.ts");
  return runtime;
}

/** The loaded runtime; the program's preAction hook loads it before any action. */
export function rt(): Runtime {
  if (runtime === undefined) throw new Error("cli/runtime.ts is read before it was loaded: load it in a preAction hook");
  return runtime;
}
