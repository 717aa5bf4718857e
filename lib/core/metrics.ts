/**
 * gse-control's CloudWatch metrics: the namespace, the service dimension and every metric's name,
 * unit and dimensions, defined once here; infra/dashboard.ts and infra/alarms.ts read the same
 * catalogue. Metrics leave as CloudWatch embedded metric format (EMF) lines, serialised by
 * Powertools Metrics, flushed once per invocation (lib/http/handler.ts for HTTP routes,
 * `flushingMetrics` for the others).
 *
 * Powertools Metrics gives every metric of one EMF document the same dimension values, and a GSE
 * call's latency needs its own `operation`: so a recorder keeps what it was told, grouped by
 * dimension values, and at the flush writes one document per group. An invocation that made 40
 * list_agent_state calls writes one line for them, not 40.
 *
 * Off where nothing reads them: Powertools honours POWERTOOLS_METRICS_DISABLED (and POWERTOOLS_DEV);
 * the local runtime sets it unless GSE_METRICS=1 (docs/operations.md, "Metrics").
 */
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import type { EmfOutput } from "@aws-lambda-powertools/metrics/types";

export const METRICS_NAMESPACE = "GseControl";
/** The `service` dimension every metric carries. */
export const METRICS_SERVICE = "gse-control";

type Unit = (typeof MetricUnit)[keyof typeof MetricUnit];

interface MetricDefinition {
  readonly unit: Unit;
  /** Dimensions besides `service`, in the order the dashboard's searches name them. */
  readonly dimensions: readonly string[];
}

/** Every metric gse-control emits. A metric not in here cannot be recorded; its description is in lib/core/metric-descriptions.ts. */
export const METRIC_CATALOGUE = {
  GseCalls: { unit: MetricUnit.Count, dimensions: ["operation"] },
  GseErrors: { unit: MetricUnit.Count, dimensions: ["operation"] },
  GseLatency: { unit: MetricUnit.Milliseconds, dimensions: ["operation"] },
  AgentCacheHits: { unit: MetricUnit.Count, dimensions: [] },
  AgentCacheMisses: { unit: MetricUnit.Count, dimensions: [] },
  HeartbeatTransitions: { unit: MetricUnit.Count, dimensions: ["kind"] },
  HeartbeatPollDuration: { unit: MetricUnit.Milliseconds, dimensions: [] },
  CommandsStarted: { unit: MetricUnit.Count, dimensions: [] },
  CommandsRunning: { unit: MetricUnit.Count, dimensions: [] },
  ConfigUndos: { unit: MetricUnit.Count, dimensions: ["outcome"] },
  ConfigRollbacks: { unit: MetricUnit.Count, dimensions: [] },
  AlertsPublished: { unit: MetricUnit.Count, dimensions: ["type"] },
} as const satisfies Record<string, MetricDefinition>;

export type MetricName = keyof typeof METRIC_CATALOGUE;
type DimensionName<N extends MetricName> = (typeof METRIC_CATALOGUE)[N]["dimensions"][number];
/** A metric's dimension values: none for a metric without dimensions, else every one it names. */
type DimensionArgs<N extends MetricName> = [DimensionName<N>] extends [never] ? [] : [Readonly<Record<DimensionName<N>, string>>];

export interface MetricsRecorder {
  /** One data point; kept until the next flush. */
  add<N extends MetricName>(name: N, value: number, ...dimensions: DimensionArgs<N>): void;
  /** Writes what was added since the last flush, one EMF document per set of dimension values. */
  flush(): void;
}

/** Drops everything: the default of every dependency that takes a recorder. */
export const noMetrics: MetricsRecorder = { add() {}, flush() {} };

export interface MetricsOptions {
  /**
   * Where each EMF document goes instead of stdout: tests read what Powertools serialised. Given,
   * documents are handed over even where POWERTOOLS_METRICS_DISABLED is set.
   */
  readonly emit?: (document: EmfOutput) => void;
}

interface Point {
  readonly name: MetricName;
  readonly value: number;
}

export function createMetrics(options: MetricsOptions = {}): MetricsRecorder {
  const groups = new Map<string, { dimensions: Record<string, string>; points: Point[] }>();
  return {
    add(name, value, ...dimensions) {
      const values: Record<string, string> = { ...(dimensions[0] ?? {}) };
      const key = JSON.stringify(Object.entries(values).sort());
      let group = groups.get(key);
      if (!group) {
        group = { dimensions: values, points: [] };
        groups.set(key, group);
      }
      group.points.push({ name, value });
    },
    flush() {
      const pending = [...groups.values()];
      groups.clear();
      for (const { dimensions, points } of pending) writeDocument(dimensions, points, options.emit);
    },
  };
}

/** One group through Powertools: it validates names and units and writes (or hands over) the document. */
function writeDocument(dimensions: Record<string, string>, points: readonly Point[], emit: MetricsOptions["emit"]): void {
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: METRICS_SERVICE, defaultDimensions: dimensions });
  for (const { name, value } of points) metrics.addMetric(name, METRIC_CATALOGUE[name].unit, value);
  if (!emit) {
    metrics.publishStoredMetrics();
    return;
  }
  emit(metrics.serializeMetrics());
  metrics.clearMetrics();
}

let shared: MetricsRecorder | undefined;

/**
 * The process's recorder (one function per Lambda process): what functionContext hands to lib/,
 * and what the handler wrappers flush. Built on first use, after the environment is settled.
 */
export function processMetrics(): MetricsRecorder {
  shared ??= createMetrics();
  return shared;
}

/**
 * A non-HTTP handler (schedule, queue, stream) whose metrics are flushed as each invocation ends,
 * failed or not. HTTP handlers flush in lib/http/handler.ts.
 */
export function flushingMetrics<E, C, R>(handler: (event: E, context: C) => Promise<R>): (event: E, context: C) => Promise<R> {
  return async function handlerFlushingMetrics(event, context) {
    try {
      return await handler(event, context);
    } finally {
      processMetrics().flush();
    }
  };
}
