/**
 * The one shape of every alert (lib/core/alerts.ts publishes it). Apart from the publisher so that
 * what only reads alerts (the alert log behind the status page) does not bundle the SNS client.
 */
import * as z from "zod";
import { ALERT_CATALOG, ALERT_SEVERITIES, ALERT_TYPES, type AlertSeverity } from "./alert-catalog.ts";

/** The parts of gse-control that raise alerts: `gse-control/<its folder under lib/>`. */
export const ALERT_SOURCES = [
  "gse-control/config-versions",
  "gse-control/commands",
  "gse-control/heartbeat",
  "gse-control/apm",
  "gse-control/automation",
  "gse-control/rollouts",
  "gse-control/desired",
] as const;
export type AlertSource = (typeof ALERT_SOURCES)[number];

/** A sample names at most this many items (HEARTBEAT_ALERT_SAMPLE's ceiling): a person reads it, the rest is in the history. */
export const MAX_ALERT_SAMPLE = 200;

/** The core every alert has; a feature's own schema extends it (heartbeat/alerts.ts). */
export const alertFields = {
  type: z.enum(ALERT_TYPES),
  severity: z.enum(ALERT_SEVERITIES),
  /** What it is about: `route#1500123`, `command#reload.42`, `apm#2#shop#trace`, `fleet`, `gse`, `sqs#<id>`. */
  object: z.string().min(1),
  /** One line a person can act on; the status page's alert log shows it. */
  summary: z.string().min(1),
  /** How many of what, when the alert is about many (a command's outcomes). */
  counts: z.record(z.string(), z.int().nonnegative()).optional(),
  /** A bounded sample of what it is about (failing agents, lost agents). */
  sample: z.array(z.record(z.string(), z.unknown())).max(MAX_ALERT_SAMPLE).optional(),
  /** When the event happened (ISO 8601, UTC), by the raiser's clock. */
  at: z.iso.datetime(),
  source: z.enum(ALERT_SOURCES),
  /**
   * The alert's own id, the same on every copy: an alert sent through the outbox (lib/core/outbox.ts)
   * can reach the topic twice after a crash, and a subscriber drops the second by this id.
   */
  alert_id: z.string().min(1).max(200).optional(),
};

/** The one alert schema: the core, a severity the catalogue allows for the type, and the feature's own fields as they are. */
export const alertSchema = z.looseObject(alertFields).superRefine(function severityAllowedForType(alert, ctx) {
  const allowed: readonly AlertSeverity[] = ALERT_CATALOG[alert.type].severities;
  if (!allowed.includes(alert.severity)) {
    ctx.addIssue({ code: "custom", path: ["severity"], message: `${alert.type} is sent as ${allowed.join(" or ")}, not ${alert.severity}` });
  }
});
export type Alert = z.infer<typeof alertSchema>;
