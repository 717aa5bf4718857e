import { Logger } from "@aws-lambda-powertools/logger";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import getPort from "get-port";
import pLimit from "p-limit";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { changeConfig, type ConfigDeps } from "../lib/config-versions/apply.ts";
import { GseClient, type CallOptions } from "../lib/gse/client.ts";
import { applyConfigChange, type ConfigOperation } from "../lib/gse/config-apply.ts";
import type { OperationName, OperationRequest, OperationRequestInput, OperationResponseData } from "../lib/gse/operations.ts";
import { TABLES, type TableKey } from "../lib/resources.ts";
import { ConfigStore } from "../lib/config-versions/store.ts";
import { localClientConfig } from "../local/aws.ts";
import { createTables, startDynamoDbLocal } from "../local/dynamodb.ts";
import { startGseSimulator } from "../local/gse-simulator/index.ts";
import { createLogSink } from "../local/process.ts";
import { fmt, summarize } from "./stats.ts";
import type { Benchmark } from "./stats.ts";

/**
 * 1,000 versioned config changes through lib/config-versions (the code behind the six GSE change
 * routes), against DynamoDB Local and the GSE simulator started here: 50 route channels × 15
 * changes (add_route with its channel id, 13 update_route, one delete_route of a route name) and
 * 50 stream_tos × 5 (add_streamto, GSE allocating the id, then 4 update_streamto). Counts, per
 * change, the DynamoDB calls (by command; a transaction's items are its writes) and GSE calls
 * (by operation), and times each change end to end. Ten objects are changed at a time.
 */
const CHANNELS = 50;
const ROUTE_CHANGES = 15;
const STREAM_TOS = 50;
const STREAM_TO_CHANGES = 5;
const CONCURRENCY = 10;

class CountingGse extends GseClient {
  readonly calls = new Map<string, number>();
  override async call<N extends OperationName>(
    name: N,
    body: OperationRequestInput<N> | OperationRequest<N>,
    options?: CallOptions,
  ): Promise<OperationResponseData<N>> {
    this.calls.set(name, (this.calls.get(name) ?? 0) + 1);
    return super.call(name, body, options);
  }
}

const kafkaRoute = (name: string, streamToId: number) => ({ name, stream_to: { stream_to_id: streamToId, kafka: { topic_name: `0bench_${name}` } } });
const kafka = (name: string, host: string) => ({
  name,
  report_mode: "kafka" as const,
  kafka: { storage_address: [{ ip: host, port: 9092 }], sasl_username: "u", sasl_passwd: "bench-secret" },
});

export const configVersionsBenchmark: Benchmark = {
  name: "config-versions",
  async run() {
    const dir = mkdtempSync(join(tmpdir(), "gse-bench-configs-"));
    const dynamoLocal = await startDynamoDbLocal({ port: await getPort(), log: createLogSink(join(dir, "dynamodb.log")) });
    const sim = await startGseSimulator({ agents: 10, tickMs: 0, credentials: [{ bk_app_code: "bench", bk_app_secret: "bench-secret-value" }] });
    try {
      const raw = new DynamoDBClient(localClientConfig(dynamoLocal.endpoint));
      const tables = Object.fromEntries(Object.keys(TABLES).map((k) => [k, `bench-${k}`])) as Record<TableKey, string>;
      await createTables(raw, tables);
      const dynamoCalls = new Map<string, number>();
      const dynamoMs = new Map<string, number[]>();
      raw.middlewareStack.add(
        (next, context) => async (args) => {
          const command = context.commandName ?? "?";
          dynamoCalls.set(command, (dynamoCalls.get(command) ?? 0) + 1);
          const start = performance.now();
          try {
            return await next(args);
          } finally {
            dynamoMs.set(command, [...(dynamoMs.get(command) ?? []), performance.now() - start]);
          }
        },
        { step: "initialize", name: "benchCounter" },
      );
      const store = new ConfigStore({
        client: DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } }),
        tableName: tables.configs,
      });
      const gse = new CountingGse({
        gse: { baseUrl: sim.url, flavour: "v2", appCode: "bench", appSecret: "bench-secret-value", username: "admin", timeoutMs: 10_000, maxAttempts: 3 },
      });
      const deps: ConfigDeps = {
        gse,
        store,
        logger: new Logger({ logLevel: "ERROR" }),
        now: () => Date.now(),
        newId: () => randomUUID(),
        settings: { pendingAddTtlSeconds: 3600 },
      };
      const op = { operator_name: "bench" };
      const samples: number[] = [];
      const timed = async <N extends ConfigOperation>(name: N, body: unknown): Promise<OperationResponseData<N>> => {
        const start = performance.now();
        const data = await changeConfig(deps, name, body as OperationRequest<N>, { author: "bench" });
        samples.push(performance.now() - start);
        return data;
      };

      const channel = async (n: number): Promise<void> => {
        const channelId = 1_100_000 + n;
        const condition = { channel_id: channelId, plat_name: "bkmonitor" };
        await timed("add_route", { metadata: condition, operation: op, route: [kafkaRoute(`c${n}_base`, 501)] });
        for (let i = 1; i < ROUTE_CHANGES - 1; i++) {
          await timed("update_route", { condition, operation: op, specification: { route: [kafkaRoute(`c${n}_r${i % 4}`, 501 + (i % 3))] } });
        }
        await timed("delete_route", { condition, operation: { ...op, method: "specification" }, specification: { route: [`c${n}_r1`] } });
      };
      const streamTo = async (n: number): Promise<void> => {
        const added = await timed("add_streamto", { metadata: { plat_name: "bkmonitor" }, operation: op, stream_to: kafka(`bench_st_${n}`, "k0") });
        for (let i = 1; i < STREAM_TO_CHANGES; i++) {
          await timed("update_streamto", {
            condition: { stream_to_id: added.stream_to_id, plat_name: "bkmonitor" },
            operation: op,
            specification: { stream_to: kafka(`bench_st_${n}`, `k${i}`) },
          });
        }
      };

      const limit = pLimit(CONCURRENCY);
      const started = performance.now();
      await Promise.all([
        ...Array.from({ length: CHANNELS }, (_, n) => limit(() => channel(n))),
        ...Array.from({ length: STREAM_TOS }, (_, n) => limit(() => streamTo(n))),
      ]);
      const wall = performance.now() - started;
      const changes = samples.length;
      const per = (n: number) => fmt(n / changes, 2);
      const sum = (m: Map<string, number>, keys?: readonly string[]) => [...m].filter(([k]) => !keys || keys.includes(k)).reduce((a, [, v]) => a + v, 0);
      const gseWrites = sum(gse.calls, ["add_route", "update_route", "delete_route", "add_streamto", "update_streamto", "delete_streamto"]);
      const gseReads = sum(gse.calls, ["query_route", "query_streamto"]);
      const t = summarize(samples);

      // The same route updates without versioning (what the handlers did before), for comparison.
      const direct: number[] = [];
      await Promise.all(
        Array.from({ length: CHANNELS }, (_, n) =>
          limit(async () => {
            for (let i = 0; i < ROUTE_CHANGES; i++) {
              const start = performance.now();
              await applyConfigChange(gse, "update_route", {
                condition: { channel_id: 1_100_000 + n, plat_name: "bkmonitor" },
                operation: op,
                specification: { route: [kafkaRoute(`c${n}_d${i % 4}`, 501)] },
              });
              direct.push(performance.now() - start);
            }
          }),
        ),
      );
      const d = summarize(direct);
      raw.destroy();
      return [
        `${changes} changes (${CHANNELS} channels × ${ROUTE_CHANGES}, ${STREAM_TOS} stream_tos × ${STREAM_TO_CHANGES}), ${CONCURRENCY} objects at a time, DynamoDB Local + GSE simulator, in one process.`,
        "",
        "| per change | count |",
        "|---|---|",
        `| DynamoDB items written (transaction items + single writes) | ${per(store.counter.writes)} |`,
        `| DynamoDB write calls (TransactWriteItems / PutItem / UpdateItem) | ${per(dynamoCalls.get("TransactWriteItemsCommand") ?? 0)} / ${per(dynamoCalls.get("PutItemCommand") ?? 0)} / ${per(dynamoCalls.get("UpdateItemCommand") ?? 0)} |`,
        `| DynamoDB reads (GetItem) | ${per(dynamoCalls.get("GetItemCommand") ?? 0)} |`,
        `| GSE calls, of them writes / reads (verify, first-time adopt of an object made before us) | ${per(gseWrites + gseReads)}: ${per(gseWrites)} / ${per(gseReads)} |`,
        "",
        `Latency per change: p50 ${fmt(t.p50)} ms, p99 ${fmt(t.p99)} ms, max ${fmt(t.max)} ms; ${fmt(changes / (wall / 1000), 0)} changes/s overall.`,
        `The same kind of change unversioned (one GSE write, ${d.n} route updates, same concurrency): p50 ${fmt(d.p50)} ms, p99 ${fmt(d.p99)} ms.`,
        `DynamoDB Local's own latency here: TransactWriteItems p50 ${fmt(summarize(dynamoMs.get("TransactWriteItemsCommand") ?? []).p50)} ms / p99 ${fmt(summarize(dynamoMs.get("TransactWriteItemsCommand") ?? []).p99)} ms, GetItem p50 ${fmt(summarize(dynamoMs.get("GetItemCommand") ?? []).p50)} ms / p99 ${fmt(summarize(dynamoMs.get("GetItemCommand") ?? []).p99)} ms: the claim and commit transactions and the head/version reads are most of the difference. This is DynamoDB Local on a shared 2-core machine; the AWS service's latency is not measured here.`,
        "Without versioning a change is one GSE write and no DynamoDB call. Versioning adds one GSE read (the verify),",
        "one more on the first change of an object made before us (adoption), two DynamoDB transactions (claim, commit)",
        "and one or two reads (head, the current version's document). An add, whether it gives its id or GSE allocates",
        "one, writes its pending record, then one four-item transaction (pending → applied, head, v0, v1); a refused",
        "write is one transaction (REJECTED, head released) after the claim, with no GSE read.",
      ].join("\n");
    } finally {
      await sim.stop();
      await dynamoLocal.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
