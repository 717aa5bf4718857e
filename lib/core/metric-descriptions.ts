/**
 * What one data point of each metric (lib/core/metrics.ts) means; docs/operations.md lists these. Kept
 * out of lib/core/metrics.ts, which every function's bundle imports to record, because no function
 * reads a description at run time.
 */
import type { MetricName } from "./metrics.ts";

export const METRIC_DESCRIPTIONS = {
  GseCalls: "a GSE call made (the client's own retries are one call)",
  GseErrors: "a GSE call that failed after its retries (GSE's refusal included)",
  GseLatency: "how long a GSE call took, retries included",
  AgentCacheHits: "agent ids an agent-state lookup answered from the memo or the table",
  AgentCacheMisses: "agent ids an agent-state lookup asked GSE for",
  HeartbeatTransitions: "agents whose state a heartbeat shard changed, by transition kind",
  HeartbeatPollDuration: "a heartbeat poll from its start to its last shard's end",
  CommandsStarted: "a tracked command recorded (dispatch_message, APM probe commands)",
  CommandsRunning: "commands RUNNING when the five-minutely sweep looked (a gauge)",
  ConfigUndos: "a failed config change recovery undid (ROLLED_BACK) or could not (ROLLBACK_FAILED)",
  ConfigRollbacks: "a person's roll-back-to-N of a config object",
  AlertsPublished: "an alert published on the alerts topic, by alert type",
} as const satisfies Record<MetricName, string>;
