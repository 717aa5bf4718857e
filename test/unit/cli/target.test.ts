/** The CLI's settings, pure parts: --timeout, JSON syntax errors that quote nothing, profile selection, precedence. */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { jsonSyntaxError, resolveTarget, selectProfile, timeoutMs } from "../../../cli/target.ts";
import { LOCAL_SECRETS } from "../../../local/credentials.ts";

const dir = mkdtempSync(join(tmpdir(), "gse-cli-unit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("--timeout", () => {
  it("is 30 s by default and takes fractions of a second", () => {
    expect(timeoutMs(undefined)).toBe(30_000);
    expect(timeoutMs("0.5")).toBe(500);
  });
  it.each(["0", "-2", "ten", "1e2", "3601", ""])("refuses %j, naming the flag", (text) => {
    expect(() => timeoutMs(text)).toThrow(/^--timeout is seconds/);
  });
});

describe("a JSON syntax error", () => {
  const secret = "s3cr3t-value";
  it.each([
    [`{"bk_app_secret": "${secret}" "x": 1}`, 1],
    [`{\n "bk_app_secret": "${secret}",\n x}`, 3],
    [`{"bk_app_secret": ${secret}}`, 1],
    [`{"bk_app_secret": "${secret}"`, 1],
  ])("names the line and column of %j and quotes none of the text", (text, line) => {
    let error: unknown;
    try {
      JSON.parse(text);
    } catch (e) {
      error = e;
    }
    const message = jsonSyntaxError(text, error);
    expect(message).toMatch(new RegExp(`at line ${line}, column \\d+ \\(position \\d+\\)$`));
    expect(message).not.toContain(secret.slice(0, 4));
  });
  it("finds the unexpected character V8 reports without a position", () => {
    expect(jsonSyntaxError("nope", new SyntaxError(`Unexpected token 'o', "nope" is not valid JSON`))).toBe(
      "Unexpected character at line 1, column 2 (position 1)",
    );
  });
});

describe("profile selection", () => {
  const p = (code: string) => ({ bk_app_code: code, bk_app_secret: `${code}-secret` });
  const file = { default: "prod", profiles: { prod: p("prod"), stage: p("stage") } };
  it("takes the named profile, else the file's default, else the one called default", () => {
    expect(selectProfile("f", file, "stage")?.bk_app_code).toBe("stage");
    expect(selectProfile("f", file, undefined)?.bk_app_code).toBe("prod");
    expect(selectProfile("f", { profiles: { default: p("d") } }, undefined)?.bk_app_code).toBe("d");
    expect(selectProfile("f", { profiles: { other: p("o") } }, undefined)).toBeUndefined();
  });
  it("reads a legacy flat file as the profile called default, and refuses another name for it", () => {
    expect(selectProfile("f", p("flat"), undefined)?.bk_app_code).toBe("flat");
    expect(selectProfile("f", p("flat"), "default")?.bk_app_code).toBe("flat");
    expect(() => selectProfile("/x/credentials.json", p("flat"), "prod")).toThrow(/\/x\/credentials.json holds one unnamed profile/);
  });
  it("names the file and the profiles it has when a name is missing", () => {
    expect(() => selectProfile("/x/c.json", file, "dev")).toThrow('profile file /x/c.json has no profile "dev" (it has: prod, stage)');
  });
});

describe("the target's precedence", () => {
  const stackDir = join(dir, "cwd");
  mkdirSync(join(stackDir, ".data"), { recursive: true });
  const stackPath = join(stackDir, ".data", "stack.json");
  writeFileSync(
    stackPath,
    JSON.stringify({ url: "http://127.0.0.1:45678", caller: { bk_app_code: "stk", bk_app_secret: "stk-secret" }, pid: 1, stage: "local", started_at: "x" }),
  );
  chmodSync(stackPath, 0o600);
  const profile = join(dir, "cred.json");
  const sources = (env: NodeJS.ProcessEnv) => ({ env: { GSE_CONTROL_PROFILE: join(dir, "absent.json"), ...env }, cwd: stackDir, alive: () => true });

  it("uses the stack file's URL and caller when nothing else names a URL", () => {
    expect(resolveTarget(sources({}), {})).toMatchObject({ url: "http://127.0.0.1:45678", appCode: "stk", appSecret: "stk-secret" });
  });
  it("lets --url, GSE_CONTROL_URL and a profile's url win over the stack file", () => {
    expect(resolveTarget(sources({ GSE_CONTROL_URL: "http://127.0.0.1:3000" }), {})).toMatchObject({
      url: "http://127.0.0.1:3000",
      appCode: LOCAL_SECRETS.caller.bk_app_code,
    });
    expect(resolveTarget(sources({}), { url: "http://127.0.0.1:45678/" })).toMatchObject({ url: "http://127.0.0.1:45678", appCode: "stk" });
    writeFileSync(profile, JSON.stringify({ profiles: { prod: { url: "https://gse.example.com", bk_app_code: "p", bk_app_secret: "ps" } } }));
    chmodSync(profile, 0o600);
    expect(resolveTarget(sources({ GSE_CONTROL_PROFILE: profile }), { profile: "prod" })).toMatchObject({ url: "https://gse.example.com", appCode: "p" });
  });
  it("falls back to 127.0.0.1:3000 with the documented local caller when there is no stack file", () => {
    expect(resolveTarget({ env: { GSE_CONTROL_PROFILE: join(dir, "absent.json") }, cwd: dir }, {})).toMatchObject({
      url: "http://127.0.0.1:3000",
      appCode: LOCAL_SECRETS.caller.bk_app_code,
      timeoutMs: 30_000,
    });
  });
  it("refuses a remote URL without credentials", () => {
    expect(() => resolveTarget(sources({}), { url: "https://gse.example.com" })).toThrow(/^no credentials for https:\/\/gse.example.com/);
  });
});

describe("the flags' choices", () => {
  it("are lib's own lists, from files that import nothing, so --help loads no zod", () => {
    const choices = readFileSync(new URL("../../../cli/choices.ts", import.meta.url), "utf8");
    const sources = [...choices.matchAll(/from "(\.\.\/lib\/[^"]+)"/g)].map((m) => m[1] as string);
    expect(sources.sort()).toEqual([
      "../lib/apm/datasource-names.ts",
      "../lib/commands/statuses.ts",
      "../lib/fleet/statuses.ts",
      "../lib/rollouts/statuses.ts",
    ]);
    for (const source of sources) {
      expect(readFileSync(new URL(`../../../cli/${source}`, import.meta.url), "utf8"), source).not.toMatch(/^\s*import\s/m);
    }
  });
});
