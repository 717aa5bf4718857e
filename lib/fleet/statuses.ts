/**
 * The fleet's status names, apart from the schemas that use them so the CLI's `--help` can offer
 * them without loading zod (cli/choices.ts).
 */
export const FLEET_STATUSES = ["pending", "alive", "lost", "unknown"] as const;
export type FleetStatus = (typeof FLEET_STATUSES)[number];

/** `suspect`: alive but seen down by the last poll(s), fewer than HEARTBEAT_LOST_AFTER_POLLS in a row. */
export const AGENT_VIEW_STATUSES = [...FLEET_STATUSES, "suspect"] as const;
