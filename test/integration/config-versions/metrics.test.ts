/**
 * The config versions' metrics, driven through lib/ against the shared stack's GSE simulator and
 * a configs table of this file's own in DynamoDB Local: no stream poller reads that table, so the
 * stack's recovery function never undoes these changes; this file runs recovery's rule itself on
 * the stream record the table would carry, with a recorder of test/helpers/emf.ts. Alerts are kept
 * in memory instead of going to SNS (the AWS side only). ConfigUndos counts failed changes
 * recovery finished, by outcome; ConfigRollbacks counts a person's roll-back-to-N once it is applied.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { CreateTableCommand } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { randomBytes, randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { ConfigAlert } from "../../../lib/config-versions/alerts.ts";
import { changeConfig, rollbackTo, type ConfigDeps } from "../../../lib/config-versions/apply.ts";
import { ConfigStore, pendingAddKey } from "../../../lib/config-versions/store.ts";
import { configRecoveryRule, undoPendingAdd, type UndoDeps } from "../../../lib/config-versions/undo.ts";
import { ConfigNotAppliedError } from "../../../lib/core/errors.ts";
import { GseClient, type CallOptions } from "../../../lib/gse/client.ts";
import type { OperationName, OperationRequest, OperationRequestInput, OperationResponseData } from "../../../lib/gse/operations.ts";
import { TABLES } from "../../../lib/resources.ts";
import { tableSpec } from "../../../local/dynamodb.ts";
import { captureMetrics, type CapturedMetrics } from "../../helpers/emf.ts";
import { route } from "../../helpers/configs.ts";
import { streamRecord } from "../../helpers/events.ts";
import { testGseConfig, uniqueBuiltInChannelId, useStack, withFaults } from "../../helpers/stack.ts";

const { info, dynamo } = useStack();
const PLAT = `cfgmet_${randomUUID().slice(0, 8)}`;
const op = { operator_name: "admin" };
const logger = new Logger({ logLevel: "SILENT" });
const gse = new GseClient({ gse: testGseConfig(info) });

const kafkaRoute = (name: string, streamToId: number) => ({ name, stream_to: { stream_to_id: streamToId, kafka: { topic_name: `0met_${name}` } } });
type KafkaRoute = ReturnType<typeof kafkaRoute>;

/** GSE takes update_route, but the read-back right after it finds nothing: the change fails verification. */
class UnverifiedGse extends GseClient {
  private updated = false;
  private blinded = false;
  constructor() {
    super({ gse: testGseConfig(info) });
  }

  override async call<N extends OperationName>(
    name: N,
    body: OperationRequestInput<N> | OperationRequest<N>,
    options?: CallOptions,
  ): Promise<OperationResponseData<N>> {
    const data = await super.call(name, body, options);
    if (name === "update_route") this.updated = true;
    if (name === "query_route" && this.updated && !this.blinded) {
      this.blinded = true;
      return [] as OperationResponseData<N>;
    }
    return data;
  }
}

interface Configs extends CapturedMetrics {
  readonly store: ConfigStore;
  readonly alerts: ConfigAlert[];
  readonly deps: (gse?: GseClient) => ConfigDeps;
  readonly undoDeps: UndoDeps;
}

/** A fresh configs table, and the change flow and recovery on it, both recording into one recorder. */
async function configs(): Promise<Configs> {
  const tableName = `cfg-metrics-${randomBytes(6).toString("hex")}`;
  await dynamo.send(new CreateTableCommand(tableSpec(TABLES.configs, tableName)));
  const store = new ConfigStore({ client: DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } }), tableName });
  const captured = captureMetrics();
  const alerts: ConfigAlert[] = [];
  const now = () => Date.now();
  return {
    ...captured,
    store,
    alerts,
    deps: (client = gse) => ({
      gse: client,
      store,
      logger,
      now,
      newId: () => randomUUID(),
      settings: { pendingAddTtlSeconds: 3600 },
      metrics: captured.metrics,
    }),
    undoDeps: { gse, store, logger, now, operator: "admin", alerts: { publish: async (a) => void alerts.push(a) }, metrics: captured.metrics },
  };
}

async function channel(cfg: Configs, routes: KafkaRoute[]): Promise<number> {
  const channelId = uniqueBuiltInChannelId();
  await changeConfig(
    cfg.deps(),
    "add_route",
    { metadata: { channel_id: channelId, plat_name: PLAT }, operation: op, route: routes } as OperationRequest<"add_route">,
    { author: "t" },
  );
  return channelId;
}

const update = (channelId: number, routes: KafkaRoute[]) =>
  ({ condition: { channel_id: channelId, plat_name: PLAT }, operation: op, specification: { route: routes } }) as OperationRequest<"update_route">;

async function routesInGse(channelId: number): Promise<unknown[]> {
  const held = await gse.call("query_route", { condition: { channel_id: channelId }, operation: op });
  return (held[0] as { route?: unknown[] } | undefined)?.route ?? [];
}

/** An update GSE takes but that fails verification: version 2 FAILED. Returns recovery's stream record of it. */
async function failedUpdate(cfg: Configs, channelId: number, routes: KafkaRoute[]) {
  await expect(changeConfig(cfg.deps(new UnverifiedGse()), "update_route", update(channelId, routes), { author: "bob" })).rejects.toBeInstanceOf(
    ConfigNotAppliedError,
  );
  const failed = await cfg.store.getVersion(route(channelId), 2);
  expect(failed?.status).toBe("FAILED");
  return streamRecord("MODIFY", failed, { ...failed, status: "PENDING" });
}

const forChannel = (channelId: number) => `"channel_id":${channelId}`;

describe("config undo metrics", () => {
  it("records ConfigUndos with outcome ROLLED_BACK once for a change that failed verification and was undone, not again on redelivery", async () => {
    const cfg = await configs();
    const kept = kafkaRoute("kept", 501);
    const channelId = await channel(cfg, [kept]);
    const record = await failedUpdate(cfg, channelId, [kafkaRoute("extra", 502)]);
    expect(cfg.values("ConfigUndos")).toEqual([]);

    const rule = configRecoveryRule(cfg.undoDeps);
    await rule(record);
    expect((await cfg.store.getVersion(route(channelId), 2))?.status).toBe("ROLLED_BACK");
    expect(await routesInGse(channelId)).toEqual([kept]);
    expect(cfg.values("ConfigUndos", { outcome: "ROLLED_BACK", service: "gse-control" })).toEqual([1]);

    // The stream delivers at least once: the record again finds the version finished.
    await rule(record);
    expect(cfg.values("ConfigUndos")).toEqual([1]);
    expect(cfg.alerts.map((a) => a.type)).toEqual(["config.rolled_back"]);
  });

  it("records ConfigUndos with outcome ROLLBACK_FAILED when GSE refuses the undo as well", async () => {
    const cfg = await configs();
    const kept = kafkaRoute("kept", 501);
    const channelId = await channel(cfg, [kept]);
    const record = await failedUpdate(cfg, channelId, [{ ...kept, stream_to: { stream_to_id: 999, kafka: { topic_name: "moved" } } }]);
    const refused = { kind: "business_error", code: 1012002, message: "refused", match: forChannel(channelId) };
    await withFaults(
      info,
      [
        { ...refused, operation: "update_route" },
        { ...refused, operation: "delete_route" },
      ],
      () => configRecoveryRule(cfg.undoDeps)(record),
    );
    expect((await cfg.store.getVersion(route(channelId), 2))?.status).toBe("ROLLBACK_FAILED");
    expect(cfg.values("ConfigUndos", { outcome: "ROLLBACK_FAILED" })).toEqual([1]);
    expect(cfg.values("ConfigUndos", { outcome: "ROLLED_BACK" })).toEqual([]);
  });

  it("counts a failed add finished by recovery and the reconcile at the same moment once", async () => {
    const cfg = await configs();
    const key = pendingAddKey(randomUUID());
    const created = Date.now() - 3_600_000;
    await cfg.store.putPendingAdd(
      key,
      { operation: "add_route", request: { metadata: { plat_name: PLAT }, operation: op }, document: null, author: "t", created_at: created },
      7 * 86_400,
    );
    // GSE was to allocate the id and its answer never came: nothing can find the object (ROLLBACK_FAILED, no GSE call).
    await cfg.store.failPendingAdd(key, { message: "answer lost", kind: "stuck_pending", outcome: "unknown" }, undefined, Date.now());
    const failed = await cfg.store.getPendingAdd(key);
    expect(failed?.status).toBe("FAILED");
    await Promise.all([undoPendingAdd(cfg.undoDeps, failed!), undoPendingAdd(cfg.undoDeps, failed!)]);
    expect((await cfg.store.getPendingAdd(key))?.status).toBe("ROLLBACK_FAILED");
    expect(cfg.values("ConfigUndos", { outcome: "ROLLBACK_FAILED" })).toEqual([1]);
    expect(cfg.alerts).toHaveLength(1);
  });
});

describe("config rollback metrics", () => {
  it("records ConfigRollbacks 1 for a person's roll-back to version 1, applied as version 3", async () => {
    const cfg = await configs();
    const first = kafkaRoute("first", 501);
    const channelId = await channel(cfg, [first]);
    await changeConfig(cfg.deps(), "update_route", update(channelId, [{ ...first, stream_to: { stream_to_id: 502, kafka: { topic_name: "second" } } }]), {
      author: "t",
    });
    expect(cfg.values("ConfigRollbacks")).toEqual([]);
    const version = await rollbackTo(cfg.deps(), route(channelId), 1, { author: "alice" });
    expect(version).toMatchObject({ version: 3, status: "APPLIED", source_version: 1 });
    expect(await routesInGse(channelId)).toEqual([first]);
    expect(cfg.values("ConfigRollbacks", { service: "gse-control" })).toEqual([1]);
    // A roll-back is not an undo.
    expect(cfg.values("ConfigUndos")).toEqual([]);
  });

  it("records no ConfigRollbacks for a roll-back to a version that does not exist, or one GSE refuses", async () => {
    const cfg = await configs();
    const first = kafkaRoute("first", 501);
    const channelId = await channel(cfg, [first]);
    await changeConfig(cfg.deps(), "update_route", update(channelId, [{ ...first, stream_to: { stream_to_id: 502, kafka: { topic_name: "second" } } }]), {
      author: "t",
    });
    await expect(rollbackTo(cfg.deps(), route(channelId), 9, { author: "alice" })).rejects.toThrow(/no version 9/);
    await withFaults(
      info,
      [{ kind: "business_error", code: 1012002, message: "refused", operation: "update_route", match: forChannel(channelId) }],
      async () => {
        await expect(rollbackTo(cfg.deps(), route(channelId), 1, { author: "alice" })).rejects.toThrow();
      },
    );
    expect((await cfg.store.getVersion(route(channelId), 3))?.status).toBe("REJECTED");
    expect(cfg.values("ConfigRollbacks")).toEqual([]);
  });
});
