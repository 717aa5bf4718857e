/**
 * "Tell the truth" against the shared stack, with real callers' sequences: a write GSE refuses
 * changes nothing (no rollback, no alert, no lock left), recovery never writes over another
 * client's change, and sequential requests never see 409 (50 concurrent ones queueing on the
 * head: test/reliability/concurrency.test.ts).
 * "Another client" is a GSE client straight at the simulator. Every "no alert" is checked after
 * recovery has provably passed the records (recoverySettled).
 */
import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { changeConfig } from "../../../lib/config-versions/apply.ts";
import { GseError } from "../../../lib/core/errors.ts";
import type { OperationRequest } from "../../../lib/gse/operations.ts";
import type { VersionItem } from "../../../lib/config-versions/store.ts";
import { alertInbox, configStore, directGse, libDeps, LosingGse, recoverySettled, route, type AlertInbox } from "../../helpers/configs.ts";
import { callApi, eventually, simulatorControl, uniqueBuiltInChannelId, useStack, withFaults, type ApiResponse } from "../../helpers/stack.ts";

const { info, authHeader, dynamo, sqs, sns } = useStack();
const store = configStore(info, dynamo);
const run = randomUUID().slice(0, 8);
const PLAT = `truth_${run}`;
const op = { operator_name: "admin" };
const other = directGse(info);
let inbox: AlertInbox;

beforeAll(async () => {
  inbox = await alertInbox(info, sqs, sns);
});

const post = (path: string, body: unknown): Promise<ApiResponse> => callApi(info.gatewayUrl, path, { method: "POST", headers: authHeader, body });
const kafka = (name: string, streamToId = 501) => ({ name, stream_to: { stream_to_id: streamToId, kafka: { topic_name: `0t_${name}` } } });
const kafkaStreamTo = (name: string, host: string) => ({ name, report_mode: "kafka" as const, kafka: { storage_address: [{ ip: host, port: 9092 }] } });

const absent = (error: unknown): "absent" => {
  if (error instanceof GseError && error.notFound) return "absent";
  throw error;
};

/** What GSE holds for the platform's stream_tos and the given channels, as another client sees it. */
async function dump(channelIds: readonly number[]): Promise<unknown> {
  const streamTos = await other.call("query_streamto", { condition: { plat_name: PLAT }, operation: op }).catch(absent);
  const channels = await Promise.all(channelIds.map((id) => other.call("query_route", { condition: { channel_id: id }, operation: op }).catch(absent)));
  return { streamTos, channels };
}

async function history(
  kind: "route" | "streamto",
  id: number,
): Promise<{
  head: { current_version: number; latest_version: number; pending_version: number | null } | null;
  versions: VersionItem[];
  add_attempts: Record<string, unknown>[];
}> {
  const res = await callApi(info.gatewayUrl, `/v1/configs/${kind}/${id}/versions?limit=100`, { headers: authHeader });
  expect(res.status, res.text).toBe(200);
  return res.body.data as never;
}

/** The alerts about these objects once recovery has passed every record written so far. */
async function alertsAbout(...objects: string[]): Promise<unknown[]> {
  await recoverySettled(info, store, inbox);
  return (await Promise.all(objects.map((o) => inbox.about(o)))).flat();
}

describe("a write GSE refuses changes nothing", () => {
  it("an add of a channel id another client has taken since is refused and never touches that channel or its versions", async () => {
    const id = uniqueBuiltInChannelId();
    expect(
      (await post("/api/v2/data/add_route", { metadata: { channel_id: id, plat_name: PLAT }, operation: op, route: [kafka(`mine_${run}`)] })).body,
    ).toMatchObject({ result: true });
    expect(
      (await post("/api/v2/data/delete_route", { condition: { channel_id: id, plat_name: PLAT }, operation: { ...op, method: "all" } })).body,
    ).toMatchObject({ result: true });
    const headBefore = await store.getHead(route(id));
    // Another client creates the same channel straight in GSE.
    await other.call("add_route", { metadata: { channel_id: id, plat_name: PLAT }, operation: op, route: [kafka(`theirs_${run}`)] });
    const before = await dump([id]);

    const res = await post("/api/v2/data/add_route", { metadata: { channel_id: id, plat_name: PLAT }, operation: op, route: [kafka(`mine_again_${run}`)] });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ result: false, code: 1000003 });

    expect(await dump([id])).toEqual(before);
    expect(await store.getHead(route(id))).toEqual(headBefore);
    const page = await history("route", id);
    expect(page.versions.map((v) => v.status)).not.toContain("REJECTED");
    expect(page.add_attempts).toEqual([
      expect.objectContaining({ operation: "add_route", status: "REJECTED", error: expect.objectContaining({ gse_code: 1000003, outcome: "rejected" }) }),
    ]);
    expect(await alertsAbout(`route#${id}`)).toEqual([]);
    expect(await dump([id])).toEqual(before);
  });

  it("a delete of a channel already gone from GSE is refused, does not bring it back, and history records it gone", async () => {
    const id = uniqueBuiltInChannelId();
    expect(
      (await post("/api/v2/data/add_route", { metadata: { channel_id: id, plat_name: PLAT }, operation: op, route: [kafka(`gone_${run}`)] })).body,
    ).toMatchObject({ result: true });
    await other.call("delete_route", { condition: { channel_id: id, plat_name: PLAT }, operation: { ...op, method: "all" } });
    const before = await dump([id]);

    const res = await post("/api/v2/data/delete_route", { condition: { channel_id: id, plat_name: PLAT }, operation: { ...op, method: "all" } });
    expect(res.body).toMatchObject({ result: false });
    expect(String(res.body.message)).toContain("not found");

    const page = await history("route", id);
    expect(page.versions.find((v) => v.version === 2)).toMatchObject({ operation: "delete_route", status: "REJECTED" });
    expect(page.versions.find((v) => v.version === 3)).toMatchObject({ operation: "adopt", document: null, adoption: { after_version: 2, reason: "gone" } });
    expect(page.head).toMatchObject({ current_version: 3, pending_version: null });
    expect(await alertsAbout(`route#${id}`)).toEqual([]);
    expect(await dump([id])).toEqual(before);
  });

  it("an update refused for a wrong plat_name leaves another client's later change in GSE as it is", async () => {
    const id = uniqueBuiltInChannelId();
    expect(
      (await post("/api/v2/data/add_route", { metadata: { channel_id: id, plat_name: PLAT }, operation: op, route: [kafka(`a_${run}`)] })).body,
    ).toMatchObject({ result: true });
    await other.call("update_route", { condition: { channel_id: id, plat_name: PLAT }, operation: op, specification: { route: [kafka(`a_${run}`, 502)] } });
    const before = await dump([id]);

    const res = await post("/api/v2/data/update_route", {
      condition: { channel_id: id, plat_name: `other_${run}` },
      operation: op,
      specification: { route: [kafka(`b_${run}`)] },
    });
    expect(res.body).toMatchObject({ result: false });
    expect(String(res.body.message)).toContain("not found");

    const page = await history("route", id);
    expect(page.versions.find((v) => v.version === 2)).toMatchObject({ status: "REJECTED", error: expect.objectContaining({ outcome: "rejected" }) });
    expect(page.head).toMatchObject({ current_version: 1, latest_version: 2, pending_version: null });
    expect(await alertsAbout(`route#${id}`)).toEqual([]);
    expect(await dump([id])).toEqual(before);
  });

  it("a delete of a stream_to already deleted in GSE raises no critical alert and history records it gone", async () => {
    const added = await post("/api/v2/data/add_streamto", {
      metadata: { plat_name: PLAT },
      operation: op,
      stream_to: kafkaStreamTo(`st_gone_${run}`, "kafka.local"),
    });
    const id = (added.body.data as { stream_to_id: number }).stream_to_id;
    await other.call("delete_streamto", { condition: { stream_to_id: id, plat_name: PLAT }, operation: op });
    const before = await dump([]);

    const res = await post("/api/v2/data/delete_streamto", { condition: { stream_to_id: id, plat_name: PLAT }, operation: op });
    expect(res.body).toMatchObject({ result: false });

    const page = await history("streamto", id);
    expect(page.versions.find((v) => v.version === 2)).toMatchObject({ operation: "delete_streamto", status: "REJECTED" });
    expect(page.versions.find((v) => v.version === 3)).toMatchObject({ operation: "adopt", document: null, adoption: { reason: "gone" } });
    expect(await alertsAbout(`streamto#${id}`)).toEqual([]);
    expect(await dump([])).toEqual(before);
  });

  it("a write GSE's gateway keeps rate-limiting never reached GSE: 429 answered, REJECTED (not sent), no alert", async () => {
    const id = uniqueBuiltInChannelId();
    expect(
      (await post("/api/v2/data/add_route", { metadata: { channel_id: id, plat_name: PLAT }, operation: op, route: [kafka(`rl_${run}`)] })).body,
    ).toMatchObject({ result: true });
    const before = await dump([id]);
    const res = await withFaults(info, [{ kind: "rate_limit", retryAfterSeconds: 0, operation: "update_route", match: `"channel_id":${id}`, count: 20 }], () =>
      post("/api/v2/data/update_route", { condition: { channel_id: id, plat_name: PLAT }, operation: op, specification: { route: [kafka(`rl2_${run}`)] } }),
    );
    expect(res.status).toBe(429);
    expect(res.body).toMatchObject({ result: false, code_name: "RATE_LIMIT_RESTRICTION" });
    expect(await store.getVersion(route(id), 2)).toMatchObject({ status: "REJECTED", error: { kind: "rate_limited", outcome: "not_sent" } });
    expect((await store.getHead(route(id)))?.pending_version).toBeUndefined();
    expect(await alertsAbout(`route#${id}`)).toEqual([]);
    expect(await dump([id])).toEqual(before);
  });
});

describe("recovery undoes only what the failed change wrote, and only where GSE still holds it", () => {
  it("keeps another client's entry added after ours, removes ours, adopts what GSE holds and says so in one alert", async () => {
    const id = uniqueBuiltInChannelId();
    const a = kafka(`a_${run}`);
    const ours = kafka(`ours_${run}`, 502);
    const theirs = kafka(`theirs_${run}`, 503);
    expect((await post("/api/v2/data/add_route", { metadata: { channel_id: id, plat_name: PLAT }, operation: op, route: [a] })).body).toMatchObject({
      result: true,
    });
    // GSE takes our update, the answer is lost, and another client adds its own entry before recovery looks.
    const losing = new LosingGse(info, "update_route", () =>
      other.call("update_route", { condition: { channel_id: id, plat_name: PLAT }, operation: op, specification: { route: [theirs] } }),
    );
    await expect(
      changeConfig(
        libDeps(store, losing),
        "update_route",
        { condition: { channel_id: id, plat_name: PLAT }, operation: op, specification: { route: [ours] } } as OperationRequest<"update_route">,
        { author: "t" },
      ),
    ).rejects.toThrow(/connection lost/);

    const failed = await eventually("version 2 ended", async () => {
      const v = await store.getVersion(route(id), 2);
      return v?.status === "ROLLED_BACK" ? v : undefined;
    });
    expect(failed).toMatchObject({ adopted_version: 3, rollback_writes: 1 });
    const [held] = await other.call("query_route", { condition: { channel_id: id }, operation: op });
    expect(held?.route?.map((r) => r.name).sort()).toEqual([a.name, theirs.name].sort());
    expect(await store.getVersion(route(id), 3)).toMatchObject({
      operation: "adopt",
      status: "APPLIED",
      adoption: { after_version: 2, reason: "changed_elsewhere" },
      document: { plat_name: PLAT },
    });
    expect(await store.getHead(route(id))).toMatchObject({ current_version: 3, last_good_version: 3, latest_version: 3 });
    const alerts = await eventually("the alert", async () => ((await inbox.about(`route#${id}`)).length > 0 ? inbox.about(`route#${id}`) : undefined));
    expect(alerts).toEqual([expect.objectContaining({ type: "config.adopted", severity: "warning", failed_version: 2, adopted_version: 3 })]);
  });

  it("does not re-create a channel someone deleted after our failed update: adopts it gone, one alert, GSE untouched", async () => {
    const id = uniqueBuiltInChannelId();
    expect(
      (await post("/api/v2/data/add_route", { metadata: { channel_id: id, plat_name: PLAT }, operation: op, route: [kafka(`x_${run}`)] })).body,
    ).toMatchObject({ result: true });
    const losing = new LosingGse(info, "update_route", () =>
      other.call("delete_route", { condition: { channel_id: id, plat_name: PLAT }, operation: { ...op, method: "all" } }),
    );
    await expect(
      changeConfig(
        libDeps(store, losing),
        "update_route",
        { condition: { channel_id: id, plat_name: PLAT }, operation: op, specification: { route: [kafka(`y_${run}`)] } } as OperationRequest<"update_route">,
        { author: "t" },
      ),
    ).rejects.toThrow();
    await eventually("version 2 ended", async () => ((await store.getVersion(route(id), 2))?.status === "ROLLED_BACK" ? true : undefined));
    expect(await store.getVersion(route(id), 3)).toMatchObject({ operation: "adopt", document: null, adoption: { reason: "gone" } });
    expect(await dump([id])).toEqual({ streamTos: expect.anything(), channels: ["absent"] });
    const alerts = await eventually("the alert", async () => ((await inbox.about(`route#${id}`)).length > 0 ? inbox.about(`route#${id}`) : undefined));
    expect(alerts).toEqual([expect.objectContaining({ type: "config.adopted", summary: expect.stringContaining("gone") })]);
  });

  it("finishes the rollback once GSE answers again, instead of giving up on a read that failed for a while", async () => {
    const id = uniqueBuiltInChannelId();
    const kept = kafka(`k_${run}`);
    expect((await post("/api/v2/data/add_route", { metadata: { channel_id: id, plat_name: PLAT }, operation: op, route: [kept] })).body).toMatchObject({
      result: true,
    });
    // Recovery's reads of this channel fail four times in a row (more than one pass's retries).
    const losing = new LosingGse(info, "update_route", async () => {
      await simulatorControl(info, "POST", "faults/add", {
        faults: [{ kind: "http_error", status: 502, operation: "query_route", match: `"channel_id":${id}`, count: 4 }],
      });
    });
    await expect(
      changeConfig(
        libDeps(store, losing),
        "update_route",
        { condition: { channel_id: id, plat_name: PLAT }, operation: op, specification: { route: [kafka(`z_${run}`)] } } as OperationRequest<"update_route">,
        { author: "t" },
      ),
    ).rejects.toThrow();
    const done = await eventually(
      "version 2 rolled back",
      async () => {
        const v = await store.getVersion(route(id), 2);
        return v?.status === "ROLLED_BACK" || v?.status === "ROLLBACK_FAILED" ? v : undefined;
      },
      30_000,
    );
    expect(done).toMatchObject({ status: "ROLLED_BACK", recovery_attempts: expect.any(Number) });
    const [held] = await other.call("query_route", { condition: { channel_id: id }, operation: op });
    expect(held?.route).toEqual([kept]);
    const alerts = await eventually("the alert", async () => ((await inbox.about(`route#${id}`)).length > 0 ? inbox.about(`route#${id}`) : undefined));
    expect(alerts).toEqual([expect.objectContaining({ type: "config.rolled_back" })]);
  });
});

describe("sequential clients never see 409", () => {
  it("replays bk-cmdb's data id flow with no pause: every answer is GSE's, no rollback, no alert, history shows REJECTED", async () => {
    const channelId = uniqueBuiltInChannelId();
    const answers: ApiResponse[] = [];
    const send = async (path: string, body: unknown): Promise<ApiResponse> => {
      const res = await post(path, body);
      answers.push(res);
      return res;
    };
    const st = await send("/api/v2/data/add_streamto", { metadata: { plat_name: PLAT }, operation: op, stream_to: kafkaStreamTo(`cmdb_${run}`, "kafka.cmdb") });
    expect(st.body).toMatchObject({ result: true });
    const streamToId = (st.body.data as { stream_to_id: number }).stream_to_id;
    const first = kafka(`snapshot_${run}`, streamToId);
    const second = kafka(`snapshot2_${run}`, streamToId);
    expect((await send("/api/v2/data/add_route", { metadata: { channel_id: channelId, plat_name: PLAT }, operation: op, route: [first] })).body).toMatchObject({
      result: true,
      data: { channel_id: channelId },
    });
    expect((await send("/api/v2/data/add_route", { metadata: { channel_id: channelId, plat_name: PLAT }, operation: op, route: [first] })).body).toMatchObject({
      result: false,
      code: 1000003,
    });
    expect(
      (await send("/api/v2/data/update_route", { condition: { channel_id: channelId, plat_name: PLAT }, operation: op, specification: { route: [second] } }))
        .body,
    ).toMatchObject({ result: true });
    const queried = await send("/api/v2/data/query_route", { condition: { channel_id: channelId }, operation: op });
    expect((queried.body.data as { route: { name: string }[] }[])[0]?.route.map((r) => r.name)).toEqual([first.name, second.name]);
    const wrongPlat = await send("/api/v2/data/delete_route", {
      condition: { channel_id: channelId, plat_name: `tgdp_${run}` },
      operation: { ...op, method: "all" },
    });
    expect(wrongPlat.body).toMatchObject({ result: false });
    expect(String(wrongPlat.body.message)).toContain("not found");
    expect(
      (await send("/api/v2/data/delete_route", { condition: { channel_id: channelId, plat_name: PLAT }, operation: { ...op, method: "all" } })).body,
    ).toMatchObject({ result: true });
    const gone = await send("/api/v2/data/query_route", { condition: { channel_id: channelId }, operation: op });
    expect(gone.body).toMatchObject({ result: false });
    expect(String(gone.body.message)).toContain("not found");

    // GSE's own envelope every time: HTTP 200, never our 409.
    for (const a of answers) {
      expect(a.status, a.text).toBe(200);
      expect(a.body.code_name, a.text).not.toBe("CONFLICT");
    }
    const page = await history("route", channelId);
    expect(page.versions.map((v) => [v.version, v.operation, v.status]).reverse()).toEqual([
      [0, "adopt", "APPLIED"],
      [1, "add_route", "APPLIED"],
      [2, "update_route", "APPLIED"],
      [3, "delete_route", "REJECTED"],
      [4, "delete_route", "APPLIED"],
    ]);
    expect(page.add_attempts).toEqual([expect.objectContaining({ status: "REJECTED", error: expect.objectContaining({ gse_code: 1000003 }) })]);
    expect(page.versions.filter((v) => v.rolled_back_at !== undefined)).toEqual([]);
    expect(await alertsAbout(`route#${channelId}`, `streamto#${streamToId}`)).toEqual([]);
  });
});

describe("an add that gives its own id", () => {
  it("becomes version 1 of its channel once GSE took it, and its record beside the channel says APPLIED (not listed as an attempt)", async () => {
    const id = uniqueBuiltInChannelId();
    expect(
      (await post("/api/v2/data/add_route", { metadata: { channel_id: id, plat_name: PLAT }, operation: op, route: [kafka(`own_${run}`)] })).body,
    ).toMatchObject({ result: true });
    const page = await history("route", id);
    expect(page.versions.map((v) => [v.version, v.status]).reverse()).toEqual([
      [0, "APPLIED"],
      [1, "APPLIED"],
    ]);
    expect(page.add_attempts).toEqual([]);
  });

  it("recorded as a new version of a channel we knew (deleted through us, re-added through us)", async () => {
    const id = uniqueBuiltInChannelId();
    const body = { metadata: { channel_id: id, plat_name: PLAT }, operation: op, route: [kafka(`re_${run}`)] };
    expect((await post("/api/v2/data/add_route", body)).body).toMatchObject({ result: true });
    expect(
      (await post("/api/v2/data/delete_route", { condition: { channel_id: id, plat_name: PLAT }, operation: { ...op, method: "all" } })).body,
    ).toMatchObject({ result: true });
    expect((await post("/api/v2/data/add_route", body)).body).toMatchObject({ result: true });
    const page = await history("route", id);
    expect(page.versions.map((v) => [v.version, v.operation, v.status]).reverse()).toEqual([
      [0, "adopt", "APPLIED"],
      [1, "add_route", "APPLIED"],
      [2, "delete_route", "APPLIED"],
      [3, "add_route", "APPLIED"],
    ]);
    expect(page.head).toMatchObject({ current_version: 3 });
  });
});
