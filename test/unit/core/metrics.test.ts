/**
 * The metrics recorder: EMF documents written by Powertools, one per set of dimension values,
 * under the one namespace and service dimension; nothing left over after a flush.
 */
import { describe, expect, it } from "vitest";
import { METRIC_DESCRIPTIONS } from "../../../lib/core/metric-descriptions.ts";
import { flushingMetrics, METRIC_CATALOGUE, METRICS_NAMESPACE, METRICS_SERVICE, noMetrics, processMetrics } from "../../../lib/core/metrics.ts";
import { captureMetrics } from "../../helpers/emf.ts";

describe("createMetrics", () => {
  it("writes one EMF document per set of dimension values, each with the namespace, the service and the catalogue's unit", () => {
    const { metrics, documents } = captureMetrics();
    metrics.add("GseCalls", 1, { operation: "query_route" });
    metrics.add("GseLatency", 12, { operation: "query_route" });
    metrics.add("GseCalls", 1, { operation: "query_route" });
    metrics.add("GseCalls", 1, { operation: "list_agent_state" });
    metrics.add("AgentCacheHits", 7);
    metrics.flush();
    expect(documents).toHaveLength(3);
    const queryRoute = documents.find((d) => (d as Record<string, unknown>).operation === "query_route") as Record<string, unknown> &
      (typeof documents)[number];
    expect(queryRoute).toMatchObject({ service: METRICS_SERVICE, operation: "query_route", GseCalls: [1, 1], GseLatency: 12 });
    const directive = queryRoute._aws.CloudWatchMetrics[0];
    expect(directive?.Namespace).toBe(METRICS_NAMESPACE);
    expect(directive?.Dimensions).toEqual([["service", "operation"]]);
    expect(directive?.Metrics).toEqual(
      expect.arrayContaining([
        { Name: "GseCalls", Unit: METRIC_CATALOGUE.GseCalls.unit },
        { Name: "GseLatency", Unit: METRIC_CATALOGUE.GseLatency.unit },
      ]),
    );
    const cache = documents.find((d) => "AgentCacheHits" in d);
    expect(cache?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([["service"]]);
  });

  it("keeps nothing after a flush, and a flush with nothing recorded writes nothing", () => {
    const { metrics, documents } = captureMetrics();
    metrics.add("ConfigRollbacks", 1);
    metrics.flush();
    metrics.flush();
    expect(documents).toHaveLength(1);
  });

  it("names every metric within CloudWatch's limits, with a description for docs/operations.md", () => {
    for (const [name, definition] of Object.entries(METRIC_CATALOGUE)) {
      expect(name).toMatch(/^[A-Z][A-Za-z0-9]{1,254}$/);
      expect(definition.dimensions.length).toBeLessThanOrEqual(1);
    }
    expect(Object.keys(METRIC_DESCRIPTIONS)).toEqual(Object.keys(METRIC_CATALOGUE));
    for (const description of Object.values(METRIC_DESCRIPTIONS)) expect(description.length).toBeGreaterThan(10);
  });

  it("noMetrics drops what it is given", () => {
    expect(() => {
      noMetrics.add("CommandsStarted", 1);
      noMetrics.flush();
    }).not.toThrow();
  });
});

describe("flushingMetrics", () => {
  it("flushes the process's recorder when the handler throws, so the failed invocation's metrics are not carried into the next", async () => {
    const recorder = processMetrics();
    const flushed: string[] = [];
    const original = recorder.flush;
    recorder.flush = () => void flushed.push("flush");
    try {
      const handler = flushingMetrics(async (_event: unknown, _context: unknown) => {
        throw new Error("boom");
      });
      await expect(handler({}, {})).rejects.toThrow("boom");
      expect(flushed).toEqual(["flush"]);
    } finally {
      recorder.flush = original;
    }
  });
});
