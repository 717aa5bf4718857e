/**
 * A command's and an agent's status names, apart from the schemas that use them so the CLI's
 * `--help` can offer them without loading zod (cli/choices.ts).
 */
export const COMMAND_STATUSES = ["RUNNING", "SUCCEEDED", "PARTIAL", "FAILED", "ABORTED", "CANCELLED"] as const;
export const AGENT_OUTCOMES = ["PENDING", "SENT", "FAILED", "RETRYING", "REPLIED", "TIMED_OUT", "SKIPPED"] as const;
