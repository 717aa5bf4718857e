/**
 * The scheduled reconcile, driven through lib/ against the stack's configs table and GSE simulator
 * with an injected crash and a controlled clock. Only this file's own objects are reconciled
 * (reconcileHead), so changes other files have in flight are never judged stuck.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { ConfigAlert } from "../../../lib/config-versions/alerts.ts";
import { changeConfig, type ConfigDeps } from "../../../lib/config-versions/apply.ts";
import { reconcileHead, reconcileStalePendingAdds, type ReconcileDeps } from "../../../lib/config-versions/reconcile.ts";
import { configRecoveryRule } from "../../../lib/config-versions/undo.ts";
import { GseClient } from "../../../lib/gse/client.ts";
import type { OperationRequest } from "../../../lib/gse/operations.ts";
import { pendingAddKey, type HeadItem } from "../../../lib/config-versions/store.ts";
import { configStore, route } from "../../helpers/configs.ts";
import { streamRecord } from "../../helpers/events.ts";
import { eventually, uniqueBuiltInChannelId, useStack, withFaults, testGseConfig } from "../../helpers/stack.ts";

const { info, dynamo } = useStack();
const store = configStore(info, dynamo);
const PLAT = `cfgrec_${randomUUID().slice(0, 8)}`;
const op = { operator_name: "admin" };
const logger = new Logger({ logLevel: "SILENT" });
const gse = new GseClient({
  gse: testGseConfig(info),
});
const TIMEOUT_S = 300;

const kafkaRoute = (name: string, streamToId: number) => ({ name, stream_to: { stream_to_id: streamToId, kafka: { topic_name: `0rec_${name}` } } });

class ProcessDied extends Error {}

function deps(overrides: Partial<ConfigDeps> = {}): ConfigDeps {
  return { gse, store, logger, now: () => Date.now(), newId: () => randomUUID(), settings: { pendingAddTtlSeconds: 3600 }, ...overrides };
}

function reconcileDeps(now: number, sent: ConfigAlert[], driftRepair = false): ReconcileDeps {
  return {
    gse,
    store,
    logger,
    now: () => now,
    operator: "admin",
    alerts: { publish: async (a) => void sent.push(a) },
    settings: { pendingTimeoutSeconds: TIMEOUT_S, driftRepair },
  };
}

async function channel(routes: ReturnType<typeof kafkaRoute>[]): Promise<number> {
  const channelId = uniqueBuiltInChannelId();
  await changeConfig(
    deps(),
    "add_route",
    { metadata: { channel_id: channelId, plat_name: PLAT }, operation: op, route: routes } as OperationRequest<"add_route">,
    { author: "t" },
  );
  return channelId;
}

const update = (channelId: number, routes: ReturnType<typeof kafkaRoute>[]) =>
  ({ condition: { channel_id: channelId, plat_name: PLAT }, operation: op, specification: { route: routes } }) as OperationRequest<"update_route">;

/** Runs a change whose process dies after GSE answered and before the head moved. */
async function crashAfterGse(channelId: number, routes: ReturnType<typeof kafkaRoute>[]): Promise<HeadItem> {
  const dying = deps({
    beforeHeadMove: async () => {
      throw new ProcessDied("killed");
    },
  });
  await expect(changeConfig(dying, "update_route", update(channelId, routes), { author: "t" })).rejects.toBeInstanceOf(ProcessDied);
  const head = await store.getHead(route(channelId));
  if (!head) throw new Error("no head");
  return head;
}

describe("stuck PENDING versions", () => {
  it("reconciles a crash between GSE's success and the head move to APPLIED, moving the head", async () => {
    const channelId = await channel([kafkaRoute("a", 501)]);
    const head = await crashAfterGse(channelId, [kafkaRoute("b", 502)]);
    expect(head).toMatchObject({ current_version: 1, pending_version: 2 });
    expect((await store.getVersion(route(channelId), 2))?.status).toBe("PENDING");

    // Not yet: the process might still be alive within the timeout.
    expect(await reconcileHead(reconcileDeps(Date.now(), []), head)).toBe("skipped");
    expect(await reconcileHead(reconcileDeps(Date.now() + (TIMEOUT_S + 1) * 1000, []), head)).toBe("applied");
    expect(await store.getVersion(route(channelId), 2)).toMatchObject({ status: "APPLIED" });
    const after = await store.getHead(route(channelId));
    expect(after).toMatchObject({ current_version: 2, last_good_version: 2 });
    expect(after?.pending_version).toBeUndefined();
  });

  it("marks a stuck version FAILED when GSE does not hold it (recovery then rolls it back)", async () => {
    const channelId = await channel([kafkaRoute("a", 501)]);
    // GSE refuses the change and recording that fails (DynamoDB unavailable): the caller still gets
    // GSE's own error, and the version is left PENDING for the reconcile.
    const refusing = deps({
      store: Object.assign(Object.create(Object.getPrototypeOf(store)) as typeof store, store, {
        markRejected: async () => {
          throw new ProcessDied("table unavailable");
        },
      }),
    });
    await withFaults(info, [{ kind: "business_error", code: 1012009, operation: "update_route", match: `"channel_id":${channelId}`, count: 1 }], async () => {
      await expect(changeConfig(refusing, "update_route", update(channelId, [kafkaRoute("z", 509)]), { author: "t" })).rejects.toMatchObject({
        gseCode: 1012009,
      });
    });
    expect((await store.getVersion(route(channelId), 2))?.status).toBe("PENDING");
    const head = await store.getHead(route(channelId));
    expect(head).toMatchObject({ pending_version: 2 });
    expect(await reconcileHead(reconcileDeps(Date.now() + (TIMEOUT_S + 1) * 1000, []), head as HeadItem)).toBe("failed");
    expect(await store.getVersion(route(channelId), 2)).toMatchObject({ error: { kind: "stuck_pending" } });
  });
});

describe("drift", () => {
  it("alerts once per distinct drift, and re-applies the head when repair is on", async () => {
    const original = kafkaRoute("a", 501);
    const channelId = await channel([original]);
    await gse.call("update_route", { condition: { channel_id: channelId, plat_name: PLAT }, operation: op, specification: { route: [kafkaRoute("a", 555)] } });
    const head = (await store.getHead(route(channelId))) as HeadItem;
    const sent: ConfigAlert[] = [];
    expect(await reconcileHead(reconcileDeps(Date.now(), sent), head)).toBe("drifted");
    expect(await reconcileHead(reconcileDeps(Date.now(), sent), head)).toBe("drifted");
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ type: "config.drift", object: `route#${channelId}`, restored_version: 1 });
    expect(await reconcileHead(reconcileDeps(Date.now(), sent, true), head)).toBe("repaired");
    const [held] = await gse.call("query_route", { condition: { channel_id: channelId }, operation: op });
    expect(held?.route).toEqual([original]);
    expect(await reconcileHead(reconcileDeps(Date.now(), sent), head)).toBe("in_sync");
  });
});

describe("pending adds whose process died", () => {
  it("turns an add PENDING beyond the timeout into FAILED (outcome unknown), which recovery ends ROLLBACK_FAILED", async () => {
    const id = pendingAddKey(randomUUID());
    const old = Date.now() - (TIMEOUT_S + 60) * 1000;
    await store.putPendingAdd(
      id,
      { operation: "add_route", request: { metadata: { plat_name: PLAT }, operation: op }, document: null, author: "t", created_at: old },
      7 * 86_400,
    );
    expect(await reconcileStalePendingAdds(reconcileDeps(Date.now(), []))).toBeGreaterThanOrEqual(1);
    const item = await eventually("recovery to finish it", async () => {
      const current = await store.getPendingAdd(id);
      return current?.status === "ROLLBACK_FAILED" ? current : undefined;
    });
    expect(item.error).toMatchObject({ kind: "stuck_pending", outcome: "unknown" });
  });
});

describe("recovery's rule", () => {
  it("does nothing for a re-delivered FAILED record of a version already rolled back: no second rollback, no second alert", async () => {
    const channelId = await channel([kafkaRoute("a", 501)]);
    // Two 502s: the outcome is unknown (the read-back finds nothing, the one resend fails too), so FAILED.
    await withFaults(info, [{ kind: "http_error", status: 502, operation: "update_route", match: `"channel_id":${channelId}`, count: 2 }], async () => {
      await expect(changeConfig(deps(), "update_route", update(channelId, [kafkaRoute("x", 502)]), { author: "t" })).rejects.toThrow();
    });
    const done = await eventually("the stack's recovery to roll back", async () => {
      const v = await store.getVersion(route(channelId), 2);
      return v?.status === "ROLLED_BACK" && v.alerted_at !== undefined ? v : undefined;
    });
    const sent: ConfigAlert[] = [];
    const rule = configRecoveryRule({ gse, store, logger, now: () => Date.now(), operator: "admin", alerts: { publish: async (a) => void sent.push(a) } });
    const { alerted_at: _, ...failed } = { ...done, status: "FAILED" };
    await rule(streamRecord("MODIFY", failed, { ...done, status: "PENDING" }));
    expect(sent).toEqual([]);
    expect(await store.getVersion(route(channelId), 2)).toEqual(done);
  });
});
