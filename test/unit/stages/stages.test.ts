import { describe, expect, it } from "vitest";
import { isDevStage, sstPersonalStage, stagePolicy } from "../../../lib/stages.ts";

const KEPT = { protect: true, removal: "retain", deletionProtection: true };
const THROWAWAY = { protect: false, removal: "remove", deletionProtection: false };

describe("stagePolicy", () => {
  it.each(["prod", "production", "staging", "eu-prod", "alice", "Dev", "develop"])("protects %s and keeps its data", (stage) => {
    expect(stagePolicy(stage, "alice.smith")).toEqual(KEPT);
  });

  it.each(["dev", "local", "test", "dev-alice", "pr-123", "test-load"])("lets %s be removed with its data (a development stage)", (stage) => {
    expect(stagePolicy(stage, "alice.smith")).toEqual(THROWAWAY);
  });

  it("lets the deployer's own SST personal stage be removed, and protects another user's", () => {
    expect(stagePolicy("alicesmith", "Alice.Smith")).toEqual(THROWAWAY);
    expect(stagePolicy("bob", "Alice.Smith")).toEqual(KEPT);
  });

  it("protects a stage with an empty name (SST gave app() none)", () => {
    expect(isDevStage("", "alice")).toBe(false);
  });
});

describe("sstPersonalStage", () => {
  it("is the user name as SST derives it: lower case, without characters a stage cannot hold", () => {
    expect(sstPersonalStage("Alice.Smith")).toBe("alicesmith");
    expect(sstPersonalStage("ci-runner_2")).toBe("ci-runner2");
  });

  it.each(["root", "admin", "prod", "production", "dev", ""])("is none for %j, where SST asks for a name instead", (username) => {
    expect(sstPersonalStage(username)).toBeUndefined();
  });
});
