import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type {} from "vitest";
import type { TestProject } from "vitest/node";
import type { StackInfo } from "../../local/stack.ts";
import { spawnStack } from "./spawn-stack.ts";

declare module "vitest" {
  export interface ProvidedContext {
    stack: StackInfo;
  }
}

/** One stack per test run, on free ports, in memory, with credentials nobody else knows. */
export async function startSuiteStack(project: TestProject, env: NodeJS.ProcessEnv, args: readonly string[] = []): Promise<() => Promise<void>> {
  const dataDir = mkdtempSync(join(tmpdir(), "gse-control-test-"));
  const stack = await spawnStack(["--in-memory", "--ports", "auto", "--random-secrets", "--data-dir", dataDir, ...args], { env });
  project.provide("stack", stack.info);
  return async () => {
    const code = await stack.stop("SIGTERM");
    if (code !== 0) process.stderr.write(`local stack exited with ${code}:\n${stack.output()}\n`);
    // GSE_CONTROL_KEEP_STACK_DATA=1 keeps the stack's logs for a look after a failed run.
    if (process.env.GSE_CONTROL_KEEP_STACK_DATA) process.stderr.write(`local stack data kept in ${dataDir}\n`);
    else rmSync(dataDir, { recursive: true, force: true });
  };
}

export default function setup(project: TestProject): Promise<() => Promise<void>> {
  return startSuiteStack(project, {
    // A GSE call that times out costs 2 s here instead of the default 10 s, so the fault tests that
    // hold GSE's answer stay quick; the simulator answers in milliseconds otherwise.
    GSE_TIMEOUT_MS: "2000",
    // Tests age agent items by editing the table behind the functions' back; an instance's memo
    // would hide such an edit for AGENT_MEMO_SECONDS, so it is off here (unit tests cover it).
    AGENT_MEMO_SECONDS: "0",
    // Command retries after ~1 s instead of ~30 s, so the retry tests finish in seconds.
    COMMAND_RETRY_BASE_SECONDS: "1",
    COMMAND_RETRY_MAX_DELAY_SECONDS: "2",
  });
}
