/**
 * A rollout's status names, apart from the schemas that use them so the CLI's `--help` can offer
 * them without loading zod (as lib/commands/statuses.ts).
 */
export const ROLLOUT_STATUSES = ["SCHEDULED", "RUNNING", "BAKING", "PAUSED", "SUCCEEDED", "ABORTED", "CANCELLED"] as const;
export type RolloutStatus = (typeof ROLLOUT_STATUSES)[number];
