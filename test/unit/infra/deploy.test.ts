/**
 * What a deploy of each stage would do, as far as it can be known without AWS: sst.config.ts run on
 * recording fakes of SST's globals (test/helpers/sst-fakes.ts), with the deploying shell's settings
 * in process.env. The OS user (which names SST's personal stage) is set here, as a clock would be.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ENV_SETTINGS } from "../../../lib/core/config.ts";
import { DEV_STAGE_PREFIXES, DEV_STAGES } from "../../../lib/stages.ts";
import { ROOT } from "../../helpers/spawn-stack.ts";
import { DEPLOY_ENV, loadSstConfig, runConfig, withEnv, type Built } from "../../helpers/sst-fakes.ts";

const osUser = vi.hoisted(() => ({ name: "alice.smith" }));
vi.mock("node:os", async (original) => {
  const os = await original<typeof import("node:os")>();
  return { ...os, userInfo: () => ({ ...os.userInfo(), username: osUser.name }) };
});

afterEach(() => {
  osUser.name = "alice.smith";
});

/** What each table's transform sets on the DynamoDB table. */
function tableSettings(built: readonly Built[]): Record<string, unknown>[] {
  return built
    .filter((b) => b.kind === "Dynamo")
    .map((table) => {
      const args: Record<string, unknown> = {};
      (table.args.transform as { table: (a: Record<string, unknown>) => void }).table(args);
      return args;
    });
}

/** A deploying shell with the required settings, `env` and no other setting of lib/core/config.ts. */
const shell = (env: Readonly<Record<string, string | undefined>> = {}) => ({
  ...Object.fromEntries(ENV_SETTINGS.map((name) => [name, undefined])),
  ...DEPLOY_ENV,
  ...env,
});

async function deploy(stage: string, env: Readonly<Record<string, string | undefined>> = {}) {
  return withEnv(shell(env), async () => {
    const { built, config } = await runConfig(stage);
    return { app: await config.app({ stage }), tables: tableSettings(built), built };
  });
}

/** Runs the config for `stage` with `env` over a complete deploying shell; the error it stops with, and what it built first. */
async function failedDeploy(stage: string, env: Readonly<Record<string, string | undefined>>): Promise<{ message: string; built: Built[] }> {
  return withEnv(shell(env), async () => {
    const { built, config } = await loadSstConfig(stage);
    const error = await config.run().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error, "the deploy should have stopped").toBeInstanceOf(Error);
    return { message: (error as Error).message, built };
  });
}

describe("stage protection", () => {
  it.each(["prod", "production", "staging"])("protects %s: protect, removal retain, deletion protection on every table", async (stage) => {
    const { app, tables } = await deploy(stage);
    expect(app).toMatchObject({ protect: true, removal: "retain" });
    expect(tables.length).toBeGreaterThan(0);
    for (const table of tables) expect(table).toEqual({ pointInTimeRecovery: { enabled: true }, deletionProtectionEnabled: true });
  });

  it.each([
    ["dev", "dev"],
    ["the deployer's personal stage", "alicesmith"],
  ])("leaves %s unprotected: removed with its tables", async (_label, stage) => {
    const { app, tables } = await deploy(stage);
    expect(app).toMatchObject({ protect: false, removal: "remove" });
    for (const table of tables) expect(table).toEqual({ pointInTimeRecovery: { enabled: true }, deletionProtectionEnabled: false });
  });

  it("protects a personal stage deployed by another user", async () => {
    osUser.name = "bob";
    const { app, tables } = await deploy("alicesmith");
    expect(app).toMatchObject({ protect: true, removal: "retain" });
    for (const table of tables) expect(table.deletionProtectionEnabled).toBe(true);
  });
});

/** The stages a document's section deploys to (`--stage <name>` in its `sst deploy` lines). */
function deployedStages(file: string, heading: RegExp): string[] {
  const text = readFileSync(join(ROOT, file), "utf8");
  const start = text.search(heading);
  expect(start, `${file} has a deploy section`).toBeGreaterThanOrEqual(0);
  const rest = text.slice(start);
  const end = rest.slice(1).search(/\n## /);
  const section = end < 0 ? rest : rest.slice(0, end + 1);
  return [...section.matchAll(/sst deploy[^\n]*--stage[ =]([\w-]+)/g)].map((m) => m[1] as string);
}

describe("the documented deploy", () => {
  it.each([
    ["README.md", /^## Deploying$/m],
    ["docs/deploying.md", /^## Deploy$/m],
  ])("%s deploys to a stage the config protects", async (file, heading) => {
    const stages = deployedStages(file, heading);
    expect(stages.length, `${file} shows an sst deploy --stage command`).toBeGreaterThan(0);
    for (const stage of stages) {
      const { app, tables } = await deploy(stage);
      expect(app, `${file}: --stage ${stage}`).toMatchObject({ protect: true, removal: "retain" });
      for (const table of tables) expect(table.deletionProtectionEnabled).toBe(true);
    }
  });

  it("docs/deploying.md names every stage the code leaves unprotected", () => {
    const text = readFileSync(join(ROOT, "docs/deploying.md"), "utf8");
    for (const name of [...DEV_STAGES, ...DEV_STAGE_PREFIXES]) expect(text).toContain(`\`${name}\``);
  });

  it("the documented command's settings are enough to deploy", async () => {
    const text = readFileSync(join(ROOT, "docs/deploying.md"), "utf8");
    const line = /^((?:\w+=\S+ )+)\\?\n\s*npx sst deploy/m.exec(text)?.[1] ?? "";
    const documented = Object.fromEntries(
      line
        .trim()
        .split(/\s+/)
        .map((pair) => pair.split("=") as [string, string]),
    );
    expect(Object.keys(documented).sort()).toEqual(Object.keys(DEPLOY_ENV).sort());
    const cleared = Object.fromEntries(ENV_SETTINGS.map((name) => [name, undefined]));
    await withEnv({ ...cleared, ...documented }, async () => {
      await expect(runConfig("prod")).resolves.toBeDefined();
    });
  });
});

describe("settings checked at deploy", () => {
  it("stops a deploy missing a required setting, naming each one and how to set it, before building anything", async () => {
    const { message, built } = await failedDeploy("prod", { GSE_BASE_URL: undefined, GSE_SLOT_ID: "" });
    expect(message).toContain('Cannot deploy stage "prod"');
    expect(message.split("\n").filter((line) => line.startsWith("  - "))).toEqual([
      "  - GSE_BASE_URL: is required but not set",
      "  - GSE_SLOT_ID: is required but not set",
    ]);
    expect(message).toContain("npx sst deploy --stage prod");
    expect(message).toContain("docs/configuration.md");
    expect(built).toEqual([]);
  });

  it.each([
    ["GSE_BASE_URL", "paas.example.com"],
    ["GSE_SLOT_ID", "thirty-seven"],
    ["LOG_LEVEL", "LOUD"],
  ])("stops a deploy whose %s is invalid (%s), naming it", async (name, value) => {
    const { message, built } = await failedDeploy("staging", { [name]: value });
    expect(message).toMatch(new RegExp(`^  - ${name}: `, "m"));
    expect(message.split("\n").filter((l) => l.startsWith("  - "))).toHaveLength(1);
    expect(built).toEqual([]);
  });

  it("does not ask the shell for secrets: they are SST secrets, linked", async () => {
    const secrets = { GSE_APP_SECRET: undefined, GSE_SLOT_TOKEN: undefined, API_CALLERS: undefined, GSE_CALLBACK_KEY: undefined };
    await expect(deploy("prod", secrets)).resolves.toBeDefined();
  });

  it("gives every function each plain setting of lib/core/config.ts the shell sets, and the stage", async () => {
    // COMMAND_MAX_ATTEMPTS and APM_PLAT_NAME were once left out of a hand-kept list.
    const extra = { COMMAND_MAX_ATTEMPTS: "7", APM_PLAT_NAME: "bkmonitor-eu", AGENT_MEMO_SECONDS: "10" };
    const { built } = await deploy("staging", extra);
    const functions = built.filter((b) => b.kind === "Function");
    expect(functions.length).toBeGreaterThan(0);
    for (const fn of functions) expect(fn.args.environment).toEqual({ STAGE: "staging", ...DEPLOY_ENV, ...extra });
  });
});
