/**
 * Where the real binary calls and as whom: the stack file `npm start` wrote (the suite's stack
 * wrote one in its data dir), named profiles, and files it refuses, each named in the error.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { useStack } from "../../helpers/stack.ts";
import { cliRunner } from "./run-cli.ts";

const { info } = useStack();
const dir = mkdtempSync(join(tmpdir(), "gse-cli-settings-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const { cli } = cliRunner(info, dir);
const caller = info.credentials.caller;
const stackFile = join(info.dataDir, "stack.json");

function secretFile(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  chmodSync(path, 0o600);
  return path;
}

describe("the CLI's settings", () => {
  it("finds the stack it was started beside through .data/stack.json (0600), with that stack's caller", async () => {
    expect(statSync(stackFile).mode & 0o777).toBe(0o600);
    // The working directory's .data is the suite stack's data dir; nothing else says where or as whom.
    symlinkSync(info.dataDir, join(dir, ".data"));
    try {
      const found = await cli(["--json", "fleet"], {});
      expect(found.code, found.stderr).toBe(0);
      // The fleet summary, or null before the first poll: either way the API's data, not an {error}.
      expect(found.stdout).not.toContain('"error"');
      expect(found.stdout + found.stderr).not.toContain(caller.bk_app_secret);
    } finally {
      rmSync(join(dir, ".data"));
    }
    const named = await cli(["fleet"], { GSE_CONTROL_STACK_FILE: stackFile });
    expect(named.code, named.stderr).toBe(0);
  });

  it("refuses a stack file left by a stack that is gone, and one that does not exist when named", async () => {
    const gone = spawnSync(process.execPath, ["-e", "0"]).pid;
    const stale = secretFile(
      "stale-stack.json",
      JSON.stringify({
        url: "http://127.0.0.1:1",
        caller: { bk_app_code: "a", bk_app_secret: "b" },
        pid: gone,
        stage: "local",
        started_at: "2026-01-01T00:00:00Z",
      }),
    );
    const res = await cli(["fleet"], { GSE_CONTROL_STACK_FILE: stale });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(`stack file ${stale} is left from a stack that is gone (pid ${gone})`);
    const missing = await cli(["fleet"], { GSE_CONTROL_STACK_FILE: join(dir, "none.json") });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`GSE_CONTROL_STACK_FILE: no such file ${join(dir, "none.json")}`);
  });

  it("selects a named profile with --profile or GSE_CONTROL_PROFILE_NAME, else the file's default", async () => {
    const profiles = secretFile(
      "profiles.json",
      JSON.stringify({
        default: "elsewhere",
        profiles: {
          elsewhere: { url: "http://127.0.0.1:9", bk_app_code: "x", bk_app_secret: "y" },
          test: { url: info.gatewayUrl, bk_app_code: caller.bk_app_code, bk_app_secret: caller.bk_app_secret },
        },
      }),
    );
    const byFlag = await cli(["--profile", "test", "fleet"], { GSE_CONTROL_PROFILE: profiles });
    expect(byFlag.code, byFlag.stderr).toBe(0);
    const byEnv = await cli(["fleet"], { GSE_CONTROL_PROFILE: profiles, GSE_CONTROL_PROFILE_NAME: "test" });
    expect(byEnv.code, byEnv.stderr).toBe(0);
    const byDefault = await cli(["--timeout", "2", "fleet"], { GSE_CONTROL_PROFILE: profiles });
    expect(byDefault.code).toBe(1);
    expect(byDefault.stderr).toContain("http://127.0.0.1:9");
    const unknown = await cli(["--profile", "prod", "fleet"], { GSE_CONTROL_PROFILE: profiles });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(`profile file ${profiles} has no profile "prod" (it has: elsewhere, test)`);
  });

  it("names a malformed profile file and where its JSON breaks, quoting none of it", async () => {
    const secret = "never-printed-secret-0042";
    const broken = secretFile("broken.json", `{\n  "bk_app_code": "ops",\n  "bk_app_secret": "${secret}" x\n}`);
    const res = await cli(["--json", "fleet"], { GSE_CONTROL_PROFILE: broken });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(`profile file ${broken} is not valid JSON: `);
    expect(res.stderr).toMatch(/at line 3, column \d+/);
    expect(JSON.parse(res.stdout)).toMatchObject({ error: { code: "usage", message: expect.stringContaining(broken) } });
    expect(res.stdout + res.stderr).not.toContain(secret);

    const wrongShape = secretFile("shape.json", JSON.stringify({ profiles: { prod: { bk_app_code: "ops" } } }));
    const shape = await cli(["fleet"], { GSE_CONTROL_PROFILE: wrongShape });
    expect(shape.code).toBe(2);
    expect(shape.stderr).toContain(`profile file ${wrongShape} is not a profile file: fix profiles.prod.bk_app_secret`);
  });

  it("names --timeout when it is not a number of seconds", async () => {
    for (const bad of ["0", "-1", "abc", "1e3"]) {
      const res = await cli(["--timeout", bad, "fleet"]);
      expect(res.code, bad).toBe(2);
      expect(res.stderr).toContain(`--timeout is seconds, a number above 0 and at most 3600, not "${bad}"`);
    }
  });
});
