/**
 * The values the CLI's flags offer and default to, for commander's `choices` and help: lib's own
 * lists, from the zod-free files beside its schemas, since `--help` must start without zod
 * (cli/runtime.ts).
 */
export { DATASOURCES, type DatasourceName } from "../lib/apm/datasource-names.ts";
export { AGENT_OUTCOMES, COMMAND_STATUSES } from "../lib/commands/statuses.ts";
export { AGENT_VIEW_STATUSES } from "../lib/fleet/statuses.ts";
/** lib/rollouts/items.ts' statuses, here without zod (test/unit/cli/rollout.test.ts keeps the two equal). */
export const ROLLOUT_STATUSES = ["SCHEDULED", "RUNNING", "BAKING", "PAUSED", "SUCCEEDED", "ABORTED", "CANCELLED"] as const;

/** `--timeout`'s default, in seconds. */
export const DEFAULT_TIMEOUT_SECONDS = 30;
