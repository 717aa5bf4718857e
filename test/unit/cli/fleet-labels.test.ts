/**
 * `fleet label` and `fleet resolve`: a mistake is a usage error (2) before anything is sent (the
 * in-process runner's URL has nobody listening, so a request sent would exit 1), and `fleet` alone
 * still prints the summary.
 */
import { describe, expect, it } from "vitest";
import { usage } from "../../helpers/cli.ts";

describe("fleet label and fleet resolve usage", () => {
  it.each([
    ["a label without =", ["fleet", "label", "0:10.0.0.1", "env"]],
    ["a label with an empty key", ["fleet", "label", "0:10.0.0.1", "=prod"]],
    ["a key that is not a label key", ["fleet", "label", "0:10.0.0.1", "Env=prod"]],
    ["a value over 63 characters", ["fleet", "label", "0:10.0.0.1", `env=${"v".repeat(64)}`]],
    ["nothing to set or remove", ["fleet", "label", "0:10.0.0.1"]],
    ["one key set and removed", ["fleet", "label", "0:10.0.0.1", "env=prod", "--remove", "env"]],
    ["--replace with --remove", ["fleet", "label", "0:10.0.0.1", "env=prod", "--replace", "--remove", "zone"]],
    ["resolve without a query", ["fleet", "resolve"]],
    ["a query that is not JSON", ["fleet", "resolve", "--query", "{env"]],
    ["a query with no filter", ["fleet", "resolve", "--query", '{"limit":5}']],
    ["a version that is not a range", ["fleet", "resolve", "--query", '{"version":"two"}']],
  ])("exits 2 for %s, saying why", async (_label, argv) => {
    const res = await usage(argv);
    expect(res.code, res.err).toBe(2);
    expect(res.err).not.toBe("");
  });

  it("sends a good label change, and `fleet` alone still asks for the summary (exit 1: nobody listens)", async () => {
    for (const argv of [
      ["fleet", "label", "0:10.0.0.1", "env=prod", "--remove", "zone"],
      ["fleet", "label", "0:10.0.0.1", "--replace"],
      ["fleet", "resolve", "--query", '{"labels":{"env":"prod"}}'],
      ["fleet"],
    ]) {
      const res = await usage(argv);
      expect(res.code, `${argv.join(" ")}: ${res.err}`).toBe(1);
    }
  });
});
