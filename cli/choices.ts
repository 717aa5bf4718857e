/**
 * The values the CLI's flags offer and default to, for commander's `choices` and help. The lists are copies of lib's lists, kept
 * here because lib declares them beside its zod schemas and `--help` must start without zod
 * (cli/runtime.ts); test/unit/cli/choices.test.ts fails the moment a copy differs from lib's.
 */
export const AGENT_VIEW_STATUSES = ["pending", "alive", "lost", "unknown", "suspect"] as const;
export const COMMAND_STATUSES = ["RUNNING", "SUCCEEDED", "PARTIAL", "FAILED", "ABORTED", "CANCELLED"] as const;
export const AGENT_OUTCOMES = ["PENDING", "SENT", "FAILED", "RETRYING", "REPLIED", "TIMED_OUT", "SKIPPED"] as const;
export const DATASOURCES = ["trace", "metric", "log", "profiling"] as const;
export type DatasourceName = (typeof DATASOURCES)[number];

/** `--timeout`'s default, in seconds. */
export const DEFAULT_TIMEOUT_SECONDS = 30;
