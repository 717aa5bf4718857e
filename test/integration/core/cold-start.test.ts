import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { SETTINGS } from "../../../lib/core/config.ts";
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

/** Environment variables of the settings that come from linked resources, by link. */
const envOfLink = (link: string): string[] => SETTINGS.filter((s) => s.resource?.[0] === link).map((s) => s.env);
const linkedEnv = SETTINGS.filter((s) => s.resource).map((s) => s.env);

describe("cold start", () => {
  it.each(Object.entries(FUNCTIONS))("%s fails fast naming each missing setting it needs, and only those", (_name, fn) => {
    const result = coldStart(fn.file, { GSE_APP_CODE: "bk_monitorv3", GSE_SLOT_ID: "37", GSE_SLOT_TOKEN: "a-slot-token-value" });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain("Invalid configuration");
    expect(result.stderr).toContain("GSE_BASE_URL");
    const needed = fn.links.flatMap(envOfLink).filter((name) => name !== "GSE_SLOT_TOKEN");
    for (const name of needed) expect(result.stderr).toContain(`${name} (or linked`);
    // A resource the function does not link is not asked for: least privilege starts here.
    for (const name of linkedEnv.filter((n) => !needed.includes(n))) expect(result.stderr).not.toContain(`${name} (or linked`);
    expect(result.stderr).not.toContain("a-slot-token-value");
  });

  it.each(Object.entries(FUNCTIONS))("%s starts with the settings of its links alone: it reaches nothing it does not link", (_name, fn) => {
    const env: NodeJS.ProcessEnv = {
      GSE_BASE_URL: "http://127.0.0.1:9",
      GSE_APP_CODE: "bk_monitorv3",
      GSE_SLOT_ID: "37",
      GSE_SLOT_TOKEN: "a-slot-token-value",
      API_CALLERS: JSON.stringify([{ bk_app_code: "cold", bk_app_secret: "cold-start-secret" }]),
    };
    for (const name of fn.links.flatMap(envOfLink))
      env[name] ??= name.endsWith("_URL")
        ? "http://127.0.0.1:9/queue"
        : name.endsWith("_ARN")
          ? "arn:aws:sns:us-east-1:000000000000:x"
          : `test-${name.toLowerCase()}`;
    const result = coldStart(fn.file, { ...env, AWS_REGION: "us-east-1", AWS_ACCESS_KEY_ID: "x", AWS_SECRET_ACCESS_KEY: "x" });
    expect(result.stderr.slice(0, 2000)).not.toMatch(/not linked|Invalid configuration|Error/);
    expect(result.status).toBe(0);
  });
});
