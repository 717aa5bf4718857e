/**
 * A metrics recorder whose EMF documents are kept instead of written: what Powertools serialised
 * (lib/core/metrics.ts), read back by metric name and dimension values.
 */
import type { EmfOutput } from "@aws-lambda-powertools/metrics/types";
import { createMetrics, type MetricName, type MetricsRecorder } from "../../lib/core/metrics.ts";

export interface CapturedMetrics {
  readonly metrics: MetricsRecorder;
  readonly documents: EmfOutput[];
  /** Flushes, then every value of `name` in documents whose dimensions include `dimensions`. */
  values(name: MetricName, dimensions?: Readonly<Record<string, string>>): number[];
}

export function captureMetrics(): CapturedMetrics {
  const documents: EmfOutput[] = [];
  const metrics = createMetrics({ emit: (document) => documents.push(document) });
  return {
    metrics,
    documents,
    values(name, dimensions = {}) {
      metrics.flush();
      return documents.flatMap((document) => {
        const fields = document as Record<string, unknown>;
        if (!Object.entries(dimensions).every(([key, value]) => fields[key] === value)) return [];
        const value = fields[name];
        return value === undefined ? [] : Array.isArray(value) ? (value as number[]) : [value as number];
      });
    },
  };
}
