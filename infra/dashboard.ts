import { METRIC_CATALOGUE, METRICS_NAMESPACE, METRICS_SERVICE, type MetricName } from "../lib/core/metrics";
import { FUNCTIONS, type FunctionKey } from "../lib/wiring";
import { api } from "./api";
import { lambda } from "./functions";

/**
 * One CloudWatch dashboard for on-call (docs/operations.md, "The dashboard"): our own metrics, read
 * from the catalogue in lib/core/metrics.ts, then API Gateway's and Lambda's for every function in
 * lib/wiring.ts. Metrics with a per-operation (or per-kind) dimension are found by SEARCH, so a new
 * GSE operation or alert type shows up without a change here.
 */
const region = aws.getRegionOutput().region;
const PERIOD = 300;
const WIDTH = 12;
const HEIGHT = 6;

type MetricRow = readonly unknown[];

/** Every series of `name`, one per value of its dimensions (e.g. one line per GSE operation). */
function search(name: MetricName, stat: string, id: string): MetricRow {
  const dimensions = ["service", ...METRIC_CATALOGUE[name].dimensions].join(",");
  return [{ expression: `SEARCH('{${METRICS_NAMESPACE},${dimensions}} MetricName="${name}"', '${stat}', ${PERIOD})`, id, label: "" }];
}

/** A metric of ours without further dimensions. */
const ours = (name: MetricName, options: Record<string, unknown> = {}): MetricRow => [METRICS_NAMESPACE, name, "service", METRICS_SERVICE, options];

const widget = (title: string, metrics: readonly MetricRow[], options: Record<string, unknown> = {}) => ({
  type: "metric",
  width: WIDTH,
  height: HEIGHT,
  properties: { title, region, period: PERIOD, stat: "Sum", view: "timeSeries", metrics, ...options },
});

/** One series per function of lib/wiring.ts. */
const perFunction = (metricName: string) =>
  (Object.keys(FUNCTIONS) as FunctionKey[]).map((key): MetricRow => ["AWS/Lambda", metricName, "FunctionName", lambda(key).name, { label: key }]);

const apiId = api.nodes.api.id;

export const dashboard = new aws.cloudwatch.Dashboard("Dashboard", {
  dashboardName: `gse-control-${$app.stage}`,
  dashboardBody: $jsonStringify({
    widgets: [
      widget("GSE calls by operation", [search("GseCalls", "Sum", "calls")]),
      widget("GSE errors by operation", [search("GseErrors", "Sum", "errors")]),
      widget("GSE latency by operation (p95, ms)", [search("GseLatency", "p95", "latency")], { stat: "p95" }),
      widget("Agent state cache hit ratio (%)", [
        [{ expression: "100 * hits / (hits + misses)", id: "ratio", label: "hit ratio" }],
        ours("AgentCacheHits", { id: "hits", visible: false }),
        ours("AgentCacheMisses", { id: "misses", visible: false }),
      ]),
      widget("Heartbeat transitions by kind", [search("HeartbeatTransitions", "Sum", "transitions")]),
      widget("Heartbeat poll duration (ms)", [ours("HeartbeatPollDuration", { stat: "Maximum" }), ours("HeartbeatPollDuration", { stat: "Average" })]),
      widget("Commands in flight (sweep), started", [ours("CommandsRunning", { stat: "Maximum" }), ours("CommandsStarted")]),
      widget("Config undos by outcome, roll-backs to N", [search("ConfigUndos", "Sum", "undos"), ours("ConfigRollbacks")]),
      widget("Alerts published by type", [search("AlertsPublished", "Sum", "alerts")]),
      widget("API 5xx and 4xx", [
        ["AWS/ApiGateway", "5xx", "ApiId", apiId],
        ["AWS/ApiGateway", "4xx", "ApiId", apiId],
        ["AWS/ApiGateway", "Count", "ApiId", apiId, { yAxis: "right" }],
      ]),
      widget(
        "API latency (ms)",
        [
          ["AWS/ApiGateway", "Latency", "ApiId", apiId, { stat: "p50" }],
          ["AWS/ApiGateway", "Latency", "ApiId", apiId, { stat: "p99" }],
        ],
        { stat: "p99" },
      ),
      widget("Lambda errors by function", perFunction("Errors")),
      widget("Lambda throttles by function", perFunction("Throttles")),
    ],
  }),
});
