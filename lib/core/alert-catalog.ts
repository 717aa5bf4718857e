/**
 * Every message gse-control publishes on the alerts topic, and the reason it may be published.
 * The rule (docs/operations.md, "What an alert means"): an alert means either
 * - `not_as_asked`: the system may not be in the state that was asked (a change undone or not
 *   made, agents not running or not reached), or
 * - `human_must_act`: no automatic step is left and a person has to look;
 * and nothing else. The only other message is `resolved`: the all-clear of an alert that was sent
 * (severity info), so a pager can close it. News (an agent seen for the first time, a version
 * changed, a write GSE refused and nothing changed) is history and the status page, never a message.
 *
 * The one alert schema (lib/core/alerts.ts) takes its types from here, and
 * test/unit/core/alert-catalog.test.ts holds every entry to the rule, to the operations doc and to
 * a test that raises it.
 */

/** critical: a person must act now; warning: look when you can; info: an all-clear, never a page. */
export const ALERT_SEVERITIES = ["info", "warning", "critical"] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

export const ALERT_REASONS = ["not_as_asked", "human_must_act", "resolved"] as const;
export type AlertReason = (typeof ALERT_REASONS)[number];

export interface AlertTypeEntry {
  /** Why this alert may be sent at all: one of the rule's two reasons, or the all-clear of one. */
  readonly reason: AlertReason;
  /** Severities it is sent with (critical: a person must act now). */
  readonly severities: readonly AlertSeverity[];
  /** For `resolved`: the alert type whose condition it ends. */
  readonly resolves?: string;
  /** When it is sent, in one line (docs/operations.md lists each type with what to do). */
  readonly when: string;
}

export const ALERT_CATALOG = {
  "config.rolled_back": {
    reason: "not_as_asked",
    severities: ["warning"],
    when: "a config change GSE accepted could not be verified, was partly applied, or its outcome was uncertain; what it changed was undone",
  },
  "config.adopted": {
    reason: "not_as_asked",
    severities: ["warning"],
    when: "a config change failed and GSE holds what another client wrote (or the object is gone): GSE was left alone and its state recorded as the head",
  },
  "config.rollback_failed": {
    reason: "human_must_act",
    severities: ["critical"],
    when: "undoing a failed config change failed, cannot be done (a deleted stream_to), or GSE stayed unreachable: GSE's state is not known to be good",
  },
  "config.drift": {
    reason: "not_as_asked",
    severities: ["warning"],
    when: "GSE no longer holds an object's current version (changed outside gse-control)",
  },
  "config.desired_drift": {
    reason: "not_as_asked",
    severities: ["warning"],
    when: "GSE no longer holds what a platform's last applied desired-state document says; a drift plan brings it back",
  },
  "command.partial": {
    reason: "not_as_asked",
    severities: ["warning"],
    when: "a command ended with some agents failed or timed out",
  },
  "command.failed": {
    reason: "not_as_asked",
    severities: ["critical"],
    when: "a command ended without reaching any agent",
  },
  "command.aborted": {
    reason: "not_as_asked",
    severities: ["warning"],
    when: "a command stopped at its max_errors: agents left unsent",
  },
  "rollout.aborted": {
    reason: "not_as_asked",
    severities: ["warning"],
    when: "a rollout stopped at its health or errors gate: later waves not sent, the undo sent to the agents touched",
  },
  "automation.dead_letter": {
    reason: "human_must_act",
    severities: ["warning"],
    when: "an automation job can never run and was set aside in the dead-letter queue",
  },
  "apm.datasource_apply": {
    reason: "not_as_asked",
    severities: ["warning", "critical"],
    when: "starting or stopping an APM datasource failed and was undone (critical when undoing it failed too); a route GSE refused raises none",
  },
  "config.desired_apply": {
    reason: "not_as_asked",
    severities: ["warning", "critical"],
    when: "a desired-state apply failed at a change, or its bake gate (alive ratio, drift) tripped, and what it had applied was undone (critical when an undo failed: GSE holds part of the apply)",
  },
  "heartbeat.lost": {
    reason: "not_as_asked",
    severities: ["warning"],
    when: "agents seen alive stopped running for HEARTBEAT_LOST_AFTER_POLLS polls in a row (not transitional ones)",
  },
  "heartbeat.stuck": {
    reason: "not_as_asked",
    severities: ["warning"],
    when: "agents stayed in a transitional state (starting, upgrading, stopping, ...) longer than the transitional grace",
  },
  "heartbeat.unknown": {
    reason: "human_must_act",
    severities: ["warning"],
    when: "watched agent ids GSE does not know (status -2 or omitted): a wrong id, or an agent gone from GSE",
  },
  "heartbeat.gse_unreachable": {
    reason: "human_must_act",
    severities: ["critical"],
    when: "GSE did not answer the heartbeat's calls: agent state is not being observed",
  },
  "heartbeat.recovered": {
    reason: "resolved",
    severities: ["info"],
    resolves: "heartbeat.lost",
    when: "agents alerted lost are running again",
  },
  "heartbeat.gse_reachable": {
    reason: "resolved",
    severities: ["info"],
    resolves: "heartbeat.gse_unreachable",
    when: "GSE answers the heartbeat again after an alerted outage",
  },
} as const satisfies Record<string, AlertTypeEntry>;

export type AlertType = keyof typeof ALERT_CATALOG;

export const ALERT_TYPES = Object.keys(ALERT_CATALOG) as AlertType[];

export const isAlertType = (type: string): type is AlertType => Object.hasOwn(ALERT_CATALOG, type);

/** The severity an alert of `type` is sent with by default: the first listed. */
export const severityOf = (type: AlertType): AlertSeverity => ALERT_CATALOG[type].severities[0] as AlertSeverity;
