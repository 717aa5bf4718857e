import type { TestProject } from "vitest/node";
import { startSuiteStack } from "./global-setup.ts";

/**
 * The soak run's stack: settings as deployed (memo on, default timeouts), except a short cache
 * TTL so that GSE keeps being asked, with its injected errors, for the whole run.
 */
export default function setup(project: TestProject): Promise<() => Promise<void>> {
  return startSuiteStack(project, { AGENT_CACHE_TTL_SECONDS: "10" }, ["--agents", "5000"]);
}
