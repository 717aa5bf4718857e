/**
 * The shapes and keys of two time series the status page reads (lib/console), kept in the fleet table beside the fleet
 * they describe, one partition per UTC day so a read of "the last 24 hours" is one or two queries
 * and DynamoDB's TTL expires them:
 *
 * | pk                     | sk                        | what                                                    |
 * |------------------------|---------------------------|---------------------------------------------------------|
 * | `fleetstats#<day>`     | `<ISO time>`              | counts by status as of one poll, at most one per period |
 * | `alertlog#<day>`       | `<ISO time>#<message id>` | one alert published on the alerts topic                 |
 *
 * The heartbeat writes a snapshot (finishPoll, through FleetStore.putNew: the sk is the start of
 * the period, so only the period's first poll writes one and a re-run writes nothing); the
 * `alert_log` function writes alerts (a redelivered message rewrites the same item). The
 * repository is log.ts; these shapes are apart so the API's schemas need no DynamoDB client.
 */
import * as z from "zod";
import { ALERT_SEVERITIES, type AlertSeverity } from "../core/alert-catalog.ts";
import { TABLES } from "../resources.ts";
import { FLEET_STATUSES, type FleetSummary } from "./items.ts";

const TTL = TABLES.fleet.ttlAttribute;

/** One snapshot per this many minutes at most: 288 points make the 24-hour chart. */
export const FLEET_STATS_EVERY_MINUTES = 5;
/** Snapshots are kept two days: the chart shows one. */
export const FLEET_STATS_RETENTION_SECONDS = 2 * 86_400;
/** Alerts are kept a week. */
export const ALERT_LOG_RETENTION_DAYS = 7;

export const utcDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
export const fleetStatsPk = (day: string): string => `fleetstats#${day}`;
export const alertLogPk = (day: string): string => `alertlog#${day}`;

export const fleetStatsItemSchema = z.object({
  pk: z.string(),
  sk: z.string(),
  /** The poll's time (ms); the sk is the start of its period. */
  at: z.number(),
  poll_id: z.string(),
  agents: z.int(),
  by_status: z.record(z.enum(FLEET_STATUSES), z.int()),
  suspect: z.int(),
  [TTL]: z.int(),
});
export type FleetStatsItem = z.infer<typeof fleetStatsItemSchema>;

/** The snapshot of a finished poll's summary: keyed by the start of its FLEET_STATS_EVERY_MINUTES period. */
export function fleetStatsItem(summary: Pick<FleetSummary, "poll_id" | "agents" | "by_status" | "suspect">, at: number): FleetStatsItem {
  const period = FLEET_STATS_EVERY_MINUTES * 60_000;
  const start = Math.floor(at / period) * period;
  return {
    pk: fleetStatsPk(utcDay(start)),
    sk: new Date(start).toISOString(),
    at,
    poll_id: summary.poll_id,
    agents: summary.agents,
    by_status: summary.by_status,
    suspect: summary.suspect,
    [TTL]: Math.floor(at / 1000) + FLEET_STATS_RETENTION_SECONDS,
  };
}

// The catalogue owns the severities; they are re-exported for the console's schemas.
export { ALERT_SEVERITIES, type AlertSeverity };

/** One alert as the log keeps it: what an operator reads, not the whole message. */
export const alertLogEntrySchema = z.object({
  /** When it was published (ms). */
  at: z.number(),
  /** SNS's message id: the same alert delivered twice is one entry. */
  message_id: z.string().min(1),
  /** `lost`, `gse_unreachable`, `config.rolled_back`, `command.failed`, `alarm`, … */
  kind: z.string(),
  severity: z.enum(ALERT_SEVERITIES),
  subject: z.string(),
  /** A one-line summary: the alert's own summary or detail, the agents it names. */
  message: z.string(),
  /** What it is about: a config object, a command, an alarm's name. */
  object: z.string().optional(),
  source: z.string().optional(),
});
export type AlertLogEntry = z.infer<typeof alertLogEntrySchema>;

/** An alert log item: the entry under its day and time, expiring after ALERT_LOG_RETENTION_DAYS. */
export const alertLogItemSchema = alertLogEntrySchema.extend({ pk: z.string(), sk: z.string(), [TTL]: z.int() });
