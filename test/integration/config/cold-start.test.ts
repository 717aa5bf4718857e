import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { FUNCTIONS } from "../../../lib/wiring.ts";
import { ROOT } from "../../helpers/spawn-stack.ts";

/** Loads a function module in a fresh Node process, as a Lambda cold start does. */
function coldStart(file: string, env: NodeJS.ProcessEnv) {
  return spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", `await import(${JSON.stringify(`./${file}`)})`], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true", ...env },
    encoding: "utf8",
    timeout: 30_000,
  });
}

describe("cold start", () => {
  it.each(Object.entries(FUNCTIONS))("%s fails fast, naming each missing setting", (_name, fn) => {
    const result = coldStart(fn.file, { GSE_APP_CODE: "bk_monitorv3", GSE_SLOT_ID: "37", GSE_SLOT_TOKEN: "a-slot-token-value" });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain("Invalid configuration");
    for (const name of ["GSE_BASE_URL", "GSE_APP_SECRET", "AGENTS_TABLE", "API_CALLERS", "AUTOMATION_QUEUE_URL"]) {
      expect(result.stderr).toContain(name);
    }
    expect(result.stderr).not.toContain("a-slot-token-value");
  });
});
