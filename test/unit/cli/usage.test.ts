/**
 * Wrong use of the CLI exits 2 with a message, before anything is sent: run in-process (the
 * integration tests spawn the real binary for what needs the API, and once for a usage error).
 */
import { describe, expect, it } from "vitest";
import { usage } from "../../helpers/cli.ts";

describe("the CLI's usage errors", () => {
  it.each([
    ["an unknown command", ["nope"]],
    ["a config kind that does not exist", ["config", "history", "channel", "1"]],
    ["a version that is not a number", ["config", "diff", "route", "1", "one", "2"]],
    ["a status that does not exist", ["agents", "--status", "sleepy"]],
    ["watch without ids", ["watch"]],
    ["dispatch without --content", ["dispatch", "--agents", "a1"]],
    ["dispatch without --agents", ["dispatch", "--content", "x"]],
    ["an agents file that is not there", ["dispatch", "--agents", "./no/such/agents.txt", "--content", "x"]],
    ["an agent id GSE would not take", ["dispatch", "--agents", "0:10.0.0.999", "--content", "x"]],
    ["a content file that is not there", ["dispatch", "--agents", "a1", "--content", "@/no/such/file"]],
    ["a max-errors that is neither a count nor a share", ["dispatch", "--agents", "a1", "--content", "x", "--max-errors", "lots"]],
    ["a max-concurrency of 0", ["dispatch", "--agents", "a1", "--content", "x", "--max-concurrency", "0"]],
    ["a reply timeout that is not whole seconds", ["dispatch", "--agents", "a1", "--content", "x", "--reply-timeout", "1.5"]],
    ["an outcome that does not exist", ["command", "m1", "--outcome", "LOST"]],
    ["a status of commands that does not exist", ["commands", "--status", "DONE"]],
    ["cancel without a message id", ["cancel"]],
  ])("exits 2 for %s, saying why", async (_label, argv) => {
    const res = await usage(argv);
    expect(res.code, res.err).toBe(2);
    expect(res.err).not.toBe("");
    expect(res.err + res.out).not.toContain("unit-secret-0001");
  });
});
