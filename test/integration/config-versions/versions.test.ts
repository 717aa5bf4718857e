/**
 * Versioned configuration against the shared stack: the GSE routes record versions, concurrent
 * changes of one object queue on its head (409 only after the wait), a change GSE refuses is
 * REJECTED with nothing else done, and a failed change is undone by the stack's own recovery
 * function (stream-triggered) with exactly one alert on the topic. Every object is a channel id
 * of this file's own; every fault is scoped to it with `match`.
 */
import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { changeConfig } from "../../../lib/config-versions/apply.ts";
import { GseClient, type CallOptions } from "../../../lib/gse/client.ts";
import type { OperationName, OperationRequest, OperationRequestInput, OperationResponseData } from "../../../lib/gse/operations.ts";
import {
  alertInbox,
  configStore,
  directGse,
  LosingGse as LosingGseOf,
  libDeps as libDepsOf,
  pendingAddsAllocating,
  recoverySettled,
  route,
  type AlertInbox,
} from "../../helpers/configs.ts";
import { callApi, eventually, simulatorControl, uniqueBuiltInChannelId, useStack, withFaults, type ApiResponse, testGseConfig } from "../../helpers/stack.ts";

const { info, authHeader, dynamo, sqs, sns } = useStack();
const store = configStore(info, dynamo);
const run = randomUUID().slice(0, 8);
const PLAT = `cfg_${run}`;
let inbox: AlertInbox;

beforeAll(async () => {
  inbox = await alertInbox(info, sqs, sns);
});

const kafkaRoute = (name: string, streamToId: number) => ({ name, stream_to: { stream_to_id: streamToId, kafka: { topic_name: `0cfg_${name}` } } });
const op = { operator_name: "admin" };

async function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<ApiResponse> {
  return callApi(info.gatewayUrl, path, { method: "POST", headers: { ...authHeader, ...headers }, body });
}

async function createChannel(routes: ReturnType<typeof kafkaRoute>[]): Promise<number> {
  const channelId = uniqueBuiltInChannelId();
  const res = await post("/api/v2/data/add_route", { metadata: { channel_id: channelId, plat_name: PLAT }, operation: op, route: routes });
  expect(res.body, res.text).toMatchObject({ result: true, data: { channel_id: channelId } });
  return channelId;
}

const updateRoute = (channelId: number, routes: ReturnType<typeof kafkaRoute>[]) => ({
  condition: { channel_id: channelId, plat_name: PLAT },
  operation: op,
  specification: { route: routes },
});

async function routesInGse(channelId: number): Promise<unknown[]> {
  const res = await post("/api/v2/data/query_route", { condition: { channel_id: channelId }, operation: op });
  return (res.body.data as { route: unknown[] }[])[0]?.route ?? [];
}

/** Faults scoped to one channel: its id appears in every body about it. */
const forChannel = (channelId: number) => `"channel_id":${channelId}`;

describe("versions of a route channel", () => {
  it("records an add as version 1 over an adopted version 0, and an update as version 2, moving the head", async () => {
    const first = kafkaRoute(`r1_${run}`, 501);
    const channelId = await createChannel([first]);
    const ref = route(channelId);
    expect(await store.getHead(ref)).toMatchObject({ current_version: 1, last_good_version: 1, latest_version: 1 });
    expect(await store.getVersion(ref, 0)).toMatchObject({ operation: "adopt", document: null, status: "APPLIED" });
    expect(await store.getVersion(ref, 1)).toMatchObject({
      operation: "add_route",
      status: "APPLIED",
      parent_version: 0,
      author: "admin",
      document: { plat_name: PLAT, route: [first] },
    });

    const second = kafkaRoute(`r2_${run}`, 502);
    const res = await post("/api/v2/data/update_route", updateRoute(channelId, [second]), {
      "x-bkapi-authorization": JSON.stringify({ ...JSON.parse(authHeader["x-bkapi-authorization"]), bk_username: "alice" }),
    });
    expect(res.body, res.text).toMatchObject({ result: true });
    expect(await store.getHead(ref)).toMatchObject({ current_version: 2, last_good_version: 2 });
    expect((await store.getHead(ref))?.pending_version).toBeUndefined();
    // update_route upserts (docs/gse-contract.md §7.3): the document holds both routes.
    expect(await store.getVersion(ref, 2)).toMatchObject({ status: "APPLIED", parent_version: 1, author: "alice", document: { route: [first, second] } });
  });

  it("adopts a channel created before us as version 0, so a later change has something to return to", async () => {
    const channelId = uniqueBuiltInChannelId();
    const before = kafkaRoute(`pre_${run}`, 501);
    // Straight to GSE, not through us.
    const gse = stackGse();
    await gse.call("add_route", { metadata: { channel_id: channelId, plat_name: PLAT }, operation: op, route: [before] });
    const res = await post("/api/v2/data/update_route", updateRoute(channelId, [kafkaRoute(`post_${run}`, 502)]));
    expect(res.body, res.text).toMatchObject({ result: true });
    expect(await store.getVersion(route(channelId), 0)).toMatchObject({ operation: "adopt", status: "APPLIED", document: { route: [before] } });
    expect(await store.getHead(route(channelId))).toMatchObject({ current_version: 1 });
  });

  it("queues a second concurrent update behind the first: both answer 200, one after the other, GSE holds both", async () => {
    const channelId = await createChannel([kafkaRoute(`c_${run}`, 501)]);
    const [a, b] = await withFaults(info, [{ kind: "latency", latencyMs: 1500, operation: "update_route", match: forChannel(channelId), count: 1 }], () =>
      Promise.all([
        post("/api/v2/data/update_route", updateRoute(channelId, [kafkaRoute(`a_${run}`, 502)])),
        post("/api/v2/data/update_route", updateRoute(channelId, [kafkaRoute(`b_${run}`, 503)])),
      ]),
    );
    expect([a.status, b.status], `${a.text} ${b.text}`).toEqual([200, 200]);
    const head = await store.getHead(route(channelId));
    expect(head).toMatchObject({ current_version: 3, last_good_version: 3, latest_version: 3 });
    // The second was applied on the head the first left: no lost update.
    expect((await store.getVersion(route(channelId), 3))?.document).toMatchObject({
      route: expect.arrayContaining([expect.objectContaining({ name: `a_${run}` }), expect.objectContaining({ name: `b_${run}` })]),
    });
    expect((await routesInGse(channelId)).map((r) => (r as { name: string }).name).sort()).toEqual([`a_${run}`, `b_${run}`, `c_${run}`].sort());
  });

  it("answers 409 with the current version only after waiting CONFIG_LOCK_WAIT_MS, without calling GSE", async () => {
    const channelId = await createChannel([kafkaRoute(`w_${run}`, 501)]);
    const slow = withFaults(info, [{ kind: "latency", latencyMs: 2000, operation: "update_route", match: forChannel(channelId), count: 1 }], () =>
      post("/api/v2/data/update_route", updateRoute(channelId, [kafkaRoute(`slow_${run}`, 502)])),
    );
    await eventually(
      "the slow change to hold the head",
      async () => ((await store.getHead(route(channelId)))?.pending_version !== undefined ? true : undefined),
      5_000,
    );
    // A clock that moves only when the change sleeps: the wait is exactly what it slept.
    let clock = Date.now();
    const waited: number[] = [];
    const calls: string[] = [];
    const counting = new (class extends GseClient {
      override async call<N extends OperationName>(
        name: N,
        body: OperationRequestInput<N> | OperationRequest<N>,
        options?: CallOptions,
      ): Promise<OperationResponseData<N>> {
        calls.push(name);
        return super.call(name, body, options);
      }
    })({
      gse: testGseConfig(info),
    });
    const impatient = libDepsOf(store, counting, {
      settings: { pendingAddTtlSeconds: 3600, lockWaitMs: 300 },
      now: () => clock,
      sleep: async (ms) => {
        waited.push(ms);
        clock += ms;
      },
    });
    await expect(
      changeConfig(impatient, "update_route", updateRoute(channelId, [kafkaRoute(`late_${run}`, 503)]) as OperationRequest<"update_route">, { author: "t" }),
    ).rejects.toMatchObject({
      codeName: "CONFLICT",
      data: { object: `route#${channelId}`, current_version: 1, pending_version: 2 },
    });
    expect(waited.reduce((n, ms) => n + ms, 0)).toBe(300);
    expect(waited.length).toBeGreaterThan(1);
    expect(calls).toEqual([]);
    expect((await slow).status).toBe(200);
    expect(await store.getHead(route(channelId))).toMatchObject({ current_version: 2, latest_version: 2 });
  });
});

describe("a change GSE refuses", () => {
  it("is REJECTED with GSE's code: GSE's error is answered, the head released at once, nothing rolled back, no alert", async () => {
    const kept = kafkaRoute(`keep_${run}`, 501);
    const channelId = await createChannel([kept]);
    const ref = route(channelId);
    const res = await withFaults(
      info,
      [{ kind: "business_error", code: 1012001, message: "route rejected", operation: "update_route", match: forChannel(channelId), count: 1 }],
      () => post("/api/v2/data/update_route", updateRoute(channelId, [kafkaRoute(`bad_${run}`, 777)])),
    );
    expect(res.body).toMatchObject({ result: false, code: 1012001 });
    const rejected = await store.getVersion(ref, 2);
    expect(rejected).toMatchObject({
      status: "REJECTED",
      error: { gse_code: 1012001, outcome: "rejected", message: "route rejected" },
      rejected_at: expect.any(Number),
    });
    expect(rejected?.failed_at).toBeUndefined();
    const head = await store.getHead(ref);
    expect(head).toMatchObject({ current_version: 1, last_good_version: 1, latest_version: 2 });
    expect(head?.pending_version).toBeUndefined();
    expect(await routesInGse(channelId)).toEqual([kept]);
    // The head is free at once: the next change goes through, on version 1's document.
    const next = await post("/api/v2/data/update_route", updateRoute(channelId, [kafkaRoute(`next_${run}`, 501)]));
    expect(next.body, next.text).toMatchObject({ result: true });
    expect(await store.getHead(ref)).toMatchObject({ current_version: 3 });
    await recoverySettled(info, store, inbox);
    expect(await inbox.about(`route#${channelId}`)).toEqual([]);
    expect((await store.getVersion(ref, 2))?.status).toBe("REJECTED");
  });
});

describe("a failed change is undone by recovery", () => {
  it("restores the last good routes when GSE took a change whose answer was lost", async () => {
    const kept = kafkaRoute(`keep_${run}`, 501);
    const channelId = await createChannel([kept]);
    const ref = route(channelId);
    const gse = new LosingGse("update_route");
    await expect(
      changeConfig(libDeps(gse), "update_route", updateRoute(channelId, [kafkaRoute(`lost_${run}`, 502)]) as OperationRequest<"update_route">, {
        author: "bob",
      }),
    ).rejects.toThrow(/connection lost/);
    await eventually("version 2 rolled back", async () => ((await store.getVersion(ref, 2))?.status === "ROLLED_BACK" ? true : undefined));
    // update_route upserted the lost route beside ours; recovery removed it again (delete_route specification).
    expect(await routesInGse(channelId)).toEqual([kept]);
    const alerts = await eventually("the alert", async () =>
      (await inbox.about(`route#${channelId}`)).length > 0 ? inbox.about(`route#${channelId}`) : undefined,
    );
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ author: "bob", failed_version: 2, restored_version: 1 });
  });

  it("restores a stream_to's previous receiver, credentials included, when GSE took an update whose answer was lost", async () => {
    const name = `st_${run}_${randomUUID().slice(0, 6)}`;
    const before = {
      name,
      report_mode: "kafka",
      kafka: { storage_address: [{ ip: "kafka-old", port: 9092 }], sasl_username: "u", sasl_passwd: `old-${randomUUID()}` },
    };
    const added = await post("/api/v2/data/add_streamto", { metadata: { plat_name: PLAT }, operation: op, stream_to: before });
    const id = (added.body.data as { stream_to_id: number }).stream_to_id;
    const after = { ...before, kafka: { storage_address: [{ ip: "kafka-new", port: 9093 }], sasl_username: "u", sasl_passwd: `new-${randomUUID()}` } };
    const body = {
      condition: { stream_to_id: id, plat_name: PLAT },
      operation: op,
      specification: { stream_to: after },
    } as OperationRequest<"update_streamto">;
    await expect(changeConfig(libDeps(new LosingGse("update_streamto")), "update_streamto", body, { author: "dave" })).rejects.toThrow(/connection lost/);
    await eventually("version 2 rolled back", async () => ((await store.getVersion({ kind: "streamto", id }, 2))?.status === "ROLLED_BACK" ? true : undefined));
    const held = await stackGse().call("query_streamto", { condition: { plat_name: PLAT, stream_to_id: id }, operation: op });
    expect((held[0] as { stream_to: unknown }).stream_to).toEqual(before);
    const alerts = await eventually("the alert", async () => ((await inbox.about(`streamto#${id}`)).length > 0 ? inbox.about(`streamto#${id}`) : undefined));
    expect(alerts).toHaveLength(1);
    expect(JSON.stringify(alerts)).not.toContain(before.kafka.sasl_passwd);
    expect(JSON.stringify(alerts)).not.toContain(after.kafka.sasl_passwd);
  });

  it("undoes an add whose id GSE allocated when the read-back does not find it: the allocated id is recorded and the channel deleted", async () => {
    const gse = new BlindGse();
    const body = { metadata: { plat_name: PLAT }, operation: op, route: [kafkaRoute(`alloc_${run}`, 501)] } as OperationRequest<"add_route">;
    await expect(changeConfig(libDeps(gse), "add_route", body, { author: "erin" })).rejects.toMatchObject({ codeName: "CONFIG_NOT_APPLIED" });
    const channelId = gse.allocated;
    expect(channelId).toEqual(expect.any(Number));
    // GSE did make it; recovery deletes it again, as there was nothing before.
    await eventually("the allocated channel deleted", async () => {
      const res = await post("/api/v2/data/query_route", { condition: { channel_id: channelId }, operation: op });
      return res.body.result === false && String(res.body.message).includes("not found") ? true : undefined;
    });
    const pending = await eventually("the pending add finished", async () => {
      const items = await pendingAddsAllocating(info, dynamo, channelId as number);
      return items[0]?.status === "ROLLED_BACK" ? items : undefined;
    });
    expect(pending).toMatchObject([{ status: "ROLLED_BACK", allocated_id: channelId, error: { kind: "verification" } }]);
    const alerts = await eventually("the alert", async () =>
      (await inbox.about(`route#${channelId}`)).length > 0 ? inbox.about(`route#${channelId}`) : undefined,
    );
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ type: "config.rolled_back", operation: "add_route", author: "erin", error: { kind: "verification" } });
  });

  it("a rollback that fails too ends ROLLBACK_FAILED with one critical alert, and is not tried again", async () => {
    const kept = kafkaRoute(`keep_${run}`, 501);
    const channelId = await createChannel([kept]);
    const ref = route(channelId);
    // Once GSE has taken the change, every further update_route of this channel is refused.
    const gse = new LosingGse("update_route", () =>
      simulatorControl(info, "POST", "faults/add", {
        faults: [{ kind: "business_error", code: 1012002, message: "refused", operation: "update_route", match: forChannel(channelId), count: 100 }],
      }),
    );
    try {
      await expect(
        changeConfig(
          libDeps(gse),
          "update_route",
          updateRoute(channelId, [{ ...kept, stream_to: { stream_to_id: 999, kafka: { topic_name: "moved" } } }]) as OperationRequest<"update_route">,
          { author: "carol" },
        ),
      ).rejects.toThrow();
      const failed = await eventually("version 2 ROLLBACK_FAILED", async () => {
        const v = await store.getVersion(ref, 2);
        return v?.status === "ROLLBACK_FAILED" ? v : undefined;
      });
      expect(failed.rollback_error).toMatchObject({ gse_code: 1012002 });
      const alerts = await eventually("the alert", async () =>
        (await inbox.about(`route#${channelId}`)).length > 0 ? inbox.about(`route#${channelId}`) : undefined,
      );
      expect(alerts[0]).toMatchObject({ type: "config.rollback_failed", severity: "critical", failed_version: 2, author: "carol" });
      const head = await store.getHead(ref);
      expect(head?.pending_version).toBeUndefined();
      expect(head).toMatchObject({ current_version: 1, latest_version: 2 });
      // No loop: a while later, still one alert, still ROLLBACK_FAILED, no new version.
      const hitsLeft = async () =>
        ((await simulatorControl(info, "GET", "faults")) as { faults: { spec: { match?: string }; remaining: number | null }[] }).faults.find(
          (f) => f.spec.match === forChannel(channelId),
        )?.remaining;
      const before = await hitsLeft();
      expect(before).toBeLessThan(100);
      await new Promise((r) => setTimeout(r, 1500));
      expect(await inbox.about(`route#${channelId}`)).toHaveLength(1);
      expect((await store.getVersion(ref, 2))?.status).toBe("ROLLBACK_FAILED");
      expect(await store.getVersion(ref, 3)).toBeUndefined();
      expect(await hitsLeft()).toBe(before);
    } finally {
      const { faults } = (await simulatorControl(info, "GET", "faults")) as { faults: { id: number; spec: { match?: string } }[] };
      await simulatorControl(info, "POST", "faults/remove", { ids: faults.filter((f) => f.spec.match === forChannel(channelId)).map((f) => f.id) });
    }
  });
});

// ---------------------------------------------------------------------------------------------

const stackGse = (): GseClient => directGse(info);

/** GSE takes the first `operation` call, then the answer is "lost" in a way no read-back resolves. */
class LosingGse extends LosingGseOf {
  constructor(operation: OperationName, afterApply?: () => Promise<unknown>) {
    super(info, operation, afterApply);
  }
}

/** GSE takes the add, but the first read-back finds nothing (as a lagging replica would answer). */
class BlindGse extends GseClient {
  allocated: number | undefined;
  private blinded = false;
  constructor() {
    super({
      gse: testGseConfig(info),
    });
  }

  override async call<N extends OperationName>(
    name: N,
    body: OperationRequestInput<N> | OperationRequest<N>,
    options?: CallOptions,
  ): Promise<OperationResponseData<N>> {
    const data = await super.call(name, body, options);
    if (name === "add_route") this.allocated = (data as { channel_id: number }).channel_id;
    if (name === "query_route" && !this.blinded) {
      this.blinded = true;
      return [] as OperationResponseData<N>;
    }
    return data;
  }
}

const libDeps = (gse: GseClient) => libDepsOf(store, gse);
