/**
 * The suite runs on Node 24, Lambda's nodejs24.x, whatever Node the machine has: npm puts the
 * project's `node` devDependency (node_modules/.bin/node) first on every script's PATH.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const pkg = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as {
  engines: { node: string };
  devDependencies: Record<string, string>;
};

describe("the runtime", () => {
  it("runs the tests on Node 24", () => {
    expect(process.version).toMatch(/^v24\./);
  });

  it("gives processes the tests spawn by name (`node`) Node 24 too", () => {
    expect(execFileSync("node", ["--version"], { encoding: "utf8" }).trim()).toMatch(/^v24\./);
  });

  it("pins the project's Node to a 24.x release and asks for 24 or later", () => {
    expect(pkg.devDependencies.node).toMatch(/^24\.\d+\.\d+$/);
    expect(pkg.engines.node).toBe(">=24");
  });
});
