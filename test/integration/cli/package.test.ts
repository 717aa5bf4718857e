/**
 * The published CLI: `npm pack` of packages/cli, installed offline into an empty folder with no
 * repo around it (the bundle has no dependencies to fetch), runs its help and a command against
 * the test stack.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT } from "../../helpers/spawn-stack.ts";
import { useStack } from "../../helpers/stack.ts";
import { runProcess } from "./run-cli.ts";

const { info } = useStack();
const dir = mkdtempSync(join(tmpdir(), "gse-cli-package-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function npm(args: readonly string[], cwd: string): string {
  // A cache of its own, empty: --offline then proves nothing is fetched.
  const res = spawnSync("npm", [...args, "--cache", join(dir, "npm-cache"), "--no-audit", "--no-fund", "--loglevel", "error"], { cwd, encoding: "utf8" });
  expect(res.status, `${res.stdout}\n${res.stderr}`).toBe(0);
  return res.stdout;
}

describe("the CLI package", () => {
  it("packs into a tarball that installs offline in an empty folder and runs --help and fleet", { timeout: 120_000 }, async () => {
    const packDir = join(dir, "pack");
    mkdirSync(packDir);
    npm(["pack", join(ROOT, "packages", "cli"), "--pack-destination", packDir], ROOT);
    const [tarball] = readdirSync(packDir).filter((f) => f.endsWith(".tgz"));
    expect(tarball).toMatch(/^gse-control-cli-\d+\.\d+\.\d+\.tgz$/);

    const app = join(dir, "app");
    mkdirSync(app);
    npm(["install", "--offline", join(packDir, tarball!)], app);
    // Nothing but the package itself: no dependency came along.
    expect(readdirSync(join(app, "node_modules")).filter((f) => !f.startsWith("."))).toEqual(["@gse-control"]);

    const bin = join(app, "node_modules", ".bin", "gse-control");
    const env = { PATH: process.env.PATH, HOME: app };
    const help = await runProcess([bin, "--help"], env, app);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toContain("Usage: gse-control");
    expect(help.stdout).toContain("--timeout <seconds>");

    const caller = info.credentials.caller;
    const fleet = await runProcess(
      [bin, "--json", "fleet"],
      { ...env, GSE_CONTROL_URL: info.gatewayUrl, GSE_CONTROL_APP_CODE: caller.bk_app_code, GSE_CONTROL_APP_SECRET: caller.bk_app_secret },
      app,
    );
    expect(fleet.code, fleet.stderr).toBe(0);
    expect(fleet.stdout).not.toContain('"error"');
  });
});
