import type { APIGatewayProxyEventV2, Context } from "aws-lambda";
import { performance } from "node:perf_hooks";
import { z } from "zod";
import { httpHandler } from "../lib/http/handler.ts";
import { createLogger } from "../lib/core/logger.ts";
import { fmt, summarize } from "./stats.ts";
import type { Benchmark } from "./stats.ts";

/**
 * What every request pays at the edge before any business logic: header normalisation,
 * constant-time authentication against the callers, JSON parsing with the prototype-key reviver,
 * zod validation, the envelope and the access log line. Measured in-process, so the number is the
 * stack's own cost, not the network's.
 */
const callers = Array.from({ length: 10 }, (_, i) => ({ bk_app_code: `app-${i}`, bk_app_secret: `secret-value-${i}` }));
const schema = z.object({ agent_id_list: z.array(z.string().min(1)).min(1).max(5000) });

function event(ids: number): APIGatewayProxyEventV2 {
  const body = JSON.stringify({ agent_id_list: Array.from({ length: ids }, (_, i) => `0:10.0.${i >> 8}.${i & 255}`), bk_username: "admin" });
  return {
    version: "2.0",
    routeKey: "POST /api/v2/cluster/list_agent_state",
    rawPath: "/api/v2/cluster/list_agent_state",
    rawQueryString: "",
    headers: { "content-type": "application/json", "x-bkapi-authorization": JSON.stringify(callers[9]) },
    requestContext: {
      accountId: "0",
      apiId: "bench",
      domainName: "localhost",
      domainPrefix: "localhost",
      http: { method: "POST", path: "/api/v2/cluster/list_agent_state", protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "bench" },
      requestId: "bench",
      routeKey: "POST /api/v2/cluster/list_agent_state",
      stage: "$default",
      time: "",
      timeEpoch: 0,
    },
    body,
    isBase64Encoded: false,
  };
}

const context = { functionName: "bench", awsRequestId: "bench", getRemainingTimeInMillis: () => 10_000 } as unknown as Context;

export const edgeBenchmark: Benchmark = {
  name: "edge",
  async run() {
    // Logs go nowhere during the run: the cost of building the line is measured, not the terminal's.
    const write = process.stdout.write.bind(process.stdout);
    const rows: string[] = ["| body | invocations | p50 µs | p99 µs | mean µs |", "|---|---|---|---|---|"];
    for (const ids of [1, 1000]) {
      const handler = httpHandler({ name: "bench", logger: createLogger("bench", "INFO"), callers, body: schema }, async ({ body }) => ({
        data: { count: body.agent_id_list.length },
      }));
      const iterations = ids === 1 ? 20_000 : 2_000;
      const samples: number[] = [];
      process.stdout.write = (() => true) as typeof process.stdout.write;
      try {
        for (let i = 0; i < iterations + 500; i++) {
          const e = event(ids);
          const start = performance.now();
          await handler(e, context);
          if (i >= 500) samples.push((performance.now() - start) * 1000);
        }
      } finally {
        process.stdout.write = write;
      }
      const s = summarize(samples);
      rows.push(`| list_agent_state body, ${ids} id${ids === 1 ? "" : "s"} | ${s.n} | ${fmt(s.p50)} | ${fmt(s.p99)} | ${fmt(s.mean)} |`);
    }
    return [
      "Per-request cost of the shared HTTP stack (`lib/http/handler.ts`) in-process, after 500 warm-up calls:",
      "authentication against 10 callers, JSON parse, zod validation, envelope, access log.",
      "",
      ...rows,
    ].join("\n");
  },
};
