/**
 * Which SST stages keep their data: the one rule `sst.config.ts` (protect, removal) and
 * `infra/storage.ts` (table deletion protection) both apply. Every stage is protected except a
 * personal or development one, so a stage nobody thought about (`prod`, `staging`, `eu-prod`) is
 * safe by default and only a name that says "throwaway" can be removed with its data.
 */
import { userInfo } from "node:os";

/** Stages that are throwaway by name. */
export const DEV_STAGES: readonly string[] = ["dev", "local", "test"];

/** Prefixes of throwaway stages: `dev-alice`, `pr-123`, `test-load`. */
export const DEV_STAGE_PREFIXES: readonly string[] = ["dev-", "pr-", "test-"];

/** Names SST never picks as a personal stage (it asks for one instead). */
const NOT_PERSONAL = new Set(["root", "admin", "prod", "dev", "production"]);

/**
 * The personal stage SST picks when `sst deploy` is run without `--stage` (and no SST_STAGE or
 * .sst/stage): the OS user name, lower-cased, with what a stage name cannot hold removed.
 */
export function sstPersonalStage(username: string): string | undefined {
  const stage = username.toLowerCase().replace(/[^a-zA-Z0-9-]/g, "");
  return stage === "" || NOT_PERSONAL.has(stage) ? undefined : stage;
}

function currentUsername(): string {
  try {
    return userInfo().username;
  } catch {
    // A process without a passwd entry (some CI containers) has no personal stage.
    return "";
  }
}

/** Whether the stage is personal or for development: its resources may be removed with their data. */
export function isDevStage(stage: string, username: string = currentUsername()): boolean {
  return DEV_STAGES.includes(stage) || DEV_STAGE_PREFIXES.some((prefix) => stage.startsWith(prefix)) || stage === sstPersonalStage(username);
}

export interface StagePolicy {
  /** SST's `protect`: `sst remove` refuses to run. */
  readonly protect: boolean;
  /** SST's `removal`: what happens to a resource taken out of the config. */
  readonly removal: "retain" | "remove";
  /** DynamoDB deletion protection on every table. */
  readonly deletionProtection: boolean;
}

export function stagePolicy(stage: string, username?: string): StagePolicy {
  const keep = !isDevStage(stage, username);
  return { protect: keep, removal: keep ? "retain" : "remove", deletionProtection: keep };
}
