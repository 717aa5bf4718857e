/**
 * GSE 2.0's agent `status_code` (docs/gse-contract.md §3.2) in the five classes the heartbeat's rules, the
 * fleet view and the alerts use. The one place that reads a status code: everything else asks
 * `statusClassOf`. Pure, no I/O; the store imports it for its item shapes.
 *
 * | class          | codes            | what the rules do                                            |
 * |----------------|------------------|--------------------------------------------------------------|
 * | `alive`        | 2 running        | seen alive                                                   |
 * | `degraded`     | 3 lossy, 4 busy  | down: counts a miss; K in a row after alive is `lost`        |
 * | `transitional` | 0 initial install, 1 starting, 5 upgrading, 6 stopping | not down: its own, longer grace, then `stuck` |
 * | `gone`         | 7 removing (uninstalled) | down, like degraded                                  |
 * | `unknown`      | -2 not found, -1 query failed, or omitted by GSE | never lost; -2/omitted is an id GSE does not know |
 *
 * 5 and 6 follow bk-job and the GSE SDK (5 upgrading, 6 stopping), not bk-nodeman, which swaps
 * them (§3.2, marked uncertain there); both are transitional either way, only the name differs.
 * A code outside the table (a later GSE's) is known to GSE and not running: `degraded`, so it is
 * treated as the heartbeat treated every non-running code before these classes (down).
 */
import * as z from "zod";

export const STATUS_CLASSES = ["alive", "degraded", "transitional", "gone", "unknown"] as const;
export const statusClassSchema = z.enum(STATUS_CLASSES);
export type StatusClass = z.infer<typeof statusClassSchema>;

/** GSE 2.0 status_code 2: the only code that means running, in every client (docs/gse-contract.md §3.2). */
export const RUNNING_STATUS_CODE = 2;
/** -2 NOT_FOUND: GSE does not know the id (like an id it omits). */
export const NOT_FOUND_STATUS_CODE = -2;
/** -1 QUERY_FAIL: GSE could not tell this agent's state this time; transient, says nothing about the agent. */
export const QUERY_FAILED_STATUS_CODE = -1;

interface StatusCodeEntry {
  /** bk-job's / the SDK's name, lower case (the simulator and the alerts use the same words). */
  readonly name: string;
  readonly statusClass: StatusClass;
}

export const STATUS_CODES: Readonly<Record<number, StatusCodeEntry>> = {
  [-2]: { name: "not_found", statusClass: "unknown" },
  [-1]: { name: "query_failed", statusClass: "unknown" },
  0: { name: "initial", statusClass: "transitional" },
  1: { name: "starting", statusClass: "transitional" },
  2: { name: "running", statusClass: "alive" },
  3: { name: "lossy", statusClass: "degraded" },
  4: { name: "busy", statusClass: "degraded" },
  5: { name: "upgrading", statusClass: "transitional" },
  6: { name: "stopping", statusClass: "transitional" },
  7: { name: "removing", statusClass: "gone" },
};

/** The class of a status code; `undefined` is an id GSE left out of its answer (unknown). */
export function statusClassOf(statusCode: number | undefined): StatusClass {
  if (statusCode === undefined) return "unknown";
  return STATUS_CODES[statusCode]?.statusClass ?? "degraded";
}

/** The code's name (`upgrading`), or `code <n>` for one outside the table. */
export const statusNameOf = (statusCode: number): string => STATUS_CODES[statusCode]?.name ?? `code ${statusCode}`;

/** Not alive and not transitional: what counts a miss towards `lost`. */
export const isDown = (statusClass: StatusClass): boolean => statusClass === "degraded" || statusClass === "gone";
