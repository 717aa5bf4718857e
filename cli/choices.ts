/**
 * The values the CLI's flags offer and default to, for commander's `choices` and help: lib's own
 * lists, from the zod-free files beside its schemas, since `--help` must start without zod
 * (cli/runtime.ts).
 */
export { DATASOURCES, type DatasourceName } from "../lib/apm/datasource-names.ts";
export { AGENT_OUTCOMES, COMMAND_STATUSES } from "../lib/commands/statuses.ts";
export { AGENT_VIEW_STATUSES } from "../lib/fleet/statuses.ts";
export { ROLLOUT_STATUSES } from "../lib/rollouts/statuses.ts";

/** `--timeout`'s default, in seconds. */
export const DEFAULT_TIMEOUT_SECONDS = 30;
