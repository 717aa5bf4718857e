/**
 * Our own routes over config versions, and idempotent config changes, through the local gateway.
 * Objects are this file's own (a unique platform and channel ids); stream_to credentials are
 * unique strings so their absence from every answer can be checked.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { idempotencyKeyPk, requestHash } from "../../../lib/config-versions/idempotency.ts";
import { configStore, route, streamTo } from "../../helpers/configs.ts";
import { callApi, simulatorCounters, uniqueBuiltInChannelId, useStack, withStackLock, type ApiResponse } from "../../helpers/stack.ts";

const { info, authHeader, dynamo } = useStack();
const store = configStore(info, dynamo);
const run = randomUUID().slice(0, 8);
const PLAT = `cfgapi_${run}`;
const op = { operator_name: "admin" };

const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse> =>
  callApi(info.gatewayUrl, path, { method, headers: { ...authHeader, ...headers }, ...(body !== undefined ? { body } : {}) });

const kafka = (host: string, passwd: string) => ({
  name: `st_${run}_${host}`,
  report_mode: "kafka",
  kafka: { storage_address: [{ ip: host, port: 9092 }], sasl_username: "u", sasl_passwd: passwd },
});
const kafkaRoute = (name: string, streamToId: number) => ({ name, stream_to: { stream_to_id: streamToId, kafka: { topic_name: `0api_${name}` } } });

async function addStreamTo(passwd: string, headers: Record<string, string> = {}): Promise<ApiResponse> {
  return call("POST", "/api/v2/data/add_streamto", { metadata: { plat_name: PLAT }, operation: op, stream_to: kafka("k1", passwd) }, headers);
}

describe("idempotent config changes", () => {
  it("answers an add repeated with the same Idempotency-Key with the first result, allocating once", async () => {
    await withStackLock(info, "add-streamto-counters", async () => {
      const key = `key-${randomUUID()}`;
      const before = await simulatorCounters(info);
      const first = await addStreamTo(`pw-${run}-a`, { "idempotency-key": key });
      const second = await addStreamTo(`pw-${run}-a`, { "idempotency-key": key });
      const after = await simulatorCounters(info);
      expect(first.body, first.text).toMatchObject({ result: true });
      expect(second.body.data).toEqual(first.body.data);
      expect((after.applied.add_streamto ?? 0) - (before.applied.add_streamto ?? 0)).toBe(1);
    });
  });

  it("refuses an Idempotency-Key reused with a different body (409), changing nothing", async () => {
    const key = `key-${randomUUID()}`;
    expect((await addStreamTo(`pw-${run}-b`, { "idempotency-key": key })).status).toBe(200);
    const other = await addStreamTo(`pw-${run}-c`, { "idempotency-key": key });
    expect(other.status).toBe(409);
    expect(other.body).toMatchObject({ result: false, code_name: "CONFLICT" });
  });

  it("answers 409 while the first request with the key is still running", async () => {
    const key = `key-${randomUUID()}`;
    const body = { metadata: { plat_name: PLAT }, operation: op, stream_to: kafka(`k-${randomUUID().slice(0, 6)}`, "pw") };
    await store.claimIdempotency(idempotencyKeyPk(info.credentials.caller.bk_app_code, key), requestHash("add_streamto", body), Date.now(), 86_400, 60_000);
    const res = await call("POST", "/api/v2/data/add_streamto", body, { "idempotency-key": key });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ result: false, code_name: "CONFLICT", message: expect.stringContaining("still in progress") });
  });

  it("lets a key left IN_PROGRESS by a process that died be used again once it is older than a change can run", async () => {
    const key = `key-${randomUUID()}`;
    const body = { metadata: { plat_name: PLAT }, operation: op, stream_to: kafka(`k-${randomUUID().slice(0, 6)}`, "pw") };
    // What a process that died mid-change leaves behind: the claim, two minutes ago.
    await store.claimIdempotency(
      idempotencyKeyPk(info.credentials.caller.bk_app_code, key),
      requestHash("add_streamto", body),
      Date.now() - 120_000,
      86_400,
      60_000,
    );
    const res = await call("POST", "/api/v2/data/add_streamto", body, { "idempotency-key": key });
    expect(res.status, res.text).toBe(200);
    expect(res.body.data).toMatchObject({ stream_to_id: expect.any(Number) });
  });

  it("answers the same allocating add from the same caller within the window with the first result", async () => {
    const body = { metadata: { plat_name: PLAT }, operation: op, stream_to: kafka(`k-${randomUUID().slice(0, 6)}`, "pw") };
    const first = await call("POST", "/api/v2/data/add_streamto", body);
    const again = await call("POST", "/api/v2/data/add_streamto", body);
    expect(again.body.data).toEqual(first.body.data);
  });

  it("still allocates a new data id for each bk-monitor allocate-only add_route, whose body is always the same", async () => {
    const body = { metadata: { plat_name: PLAT }, operation: op };
    const a = await call("POST", "/api/v2/data/add_route", body);
    const b = await call("POST", "/api/v2/data/add_route", body);
    expect((a.body.data as { channel_id: number }).channel_id).not.toBe((b.body.data as { channel_id: number }).channel_id);
  });
});

describe("versions API", () => {
  it("lists, shows and diffs versions of a stream_to with its credentials masked", async () => {
    const oldSecret = `old-${randomUUID()}`;
    const newSecret = `new-${randomUUID()}`;
    const added = await addStreamTo(oldSecret);
    const id = (added.body.data as { stream_to_id: number }).stream_to_id;
    const updated = await call("POST", "/api/v2/data/update_streamto", {
      condition: { stream_to_id: id, plat_name: PLAT },
      operation: op,
      specification: { stream_to: kafka("k2", newSecret) },
    });
    expect(updated.body, updated.text).toMatchObject({ result: true });

    const list = await call("GET", `/v1/configs/streamto/${id}/versions`);
    expect(list.status, list.text).toBe(200);
    expect(list.body.data).toMatchObject({ object: `streamto#${id}`, head: { current_version: 2, last_good_version: 2, pending_version: null } });
    expect((list.body.data as { versions: { version: number }[] }).versions.map((v) => v.version)).toEqual([2, 1, 0]);

    const one = await call("GET", `/v1/configs/streamto/${id}/versions/2`);
    expect(one.body.data).toMatchObject({
      version: 2,
      operation: "update_streamto",
      status: "APPLIED",
      document: { stream_to: { kafka: { sasl_passwd: "[REDACTED]", sasl_username: "u" } } },
    });

    const diff = await call("GET", `/v1/configs/streamto/${id}/diff?from=1&to=2`);
    expect(diff.body.data).toMatchObject({ from: 1, to: 2 });
    const changes = (diff.body.data as { changes: unknown[] }).changes;
    expect(changes).toContainEqual({ path: "stream_to.kafka.sasl_passwd", change: "changed", secret: true });
    expect(changes).toContainEqual({ path: "stream_to.kafka.storage_address[0].ip", change: "changed", from: "k1", to: "k2" });

    for (const res of [list, one, diff]) expect(res.text).not.toMatch(new RegExp(`${oldSecret}|${newSecret}`));
    // The versions keep them (a rollback must restore them), masked only on the way out.
    expect(JSON.stringify((await store.getVersion(streamTo(id), 1))?.document)).toContain(oldSecret);
  });

  it("pages through versions with next_cursor", async () => {
    const channelId = uniqueBuiltInChannelId();
    await call("POST", "/api/v2/data/add_route", { metadata: { channel_id: channelId, plat_name: PLAT }, operation: op, route: [kafkaRoute("a", 501)] });
    for (const n of [1, 2, 3]) {
      await call("POST", "/api/v2/data/update_route", {
        condition: { channel_id: channelId, plat_name: PLAT },
        operation: op,
        specification: { route: [kafkaRoute(`r${n}`, 501)] },
      });
    }
    const first = await call("GET", `/v1/configs/route/${channelId}/versions?limit=2`);
    const page1 = first.body.data as { versions: { version: number }[]; next_cursor: number };
    expect(page1.versions.map((v) => v.version)).toEqual([4, 3]);
    const second = await call("GET", `/v1/configs/route/${channelId}/versions?limit=2&cursor=${page1.next_cursor}`);
    const page2 = second.body.data as { versions: { version: number }[]; next_cursor: number | null };
    expect(page2.versions.map((v) => v.version)).toEqual([2, 1]);
    const third = await call("GET", `/v1/configs/route/${channelId}/versions?limit=2&cursor=${page2.next_cursor}`);
    expect((third.body.data as { versions: { version: number }[]; next_cursor: null }).versions.map((v) => v.version)).toEqual([0]);
  });

  it("rolls back to version N as a new version and GSE holds N's routes again", async () => {
    const channelId = uniqueBuiltInChannelId();
    const original = kafkaRoute("orig", 501);
    await call("POST", "/api/v2/data/add_route", { metadata: { channel_id: channelId, plat_name: PLAT }, operation: op, route: [original] });
    await call("POST", "/api/v2/data/update_route", {
      condition: { channel_id: channelId, plat_name: PLAT },
      operation: op,
      specification: { route: [kafkaRoute("extra", 502), { ...original, stream_to: { stream_to_id: 503, kafka: { topic_name: "moved" } } }] },
    });
    const res = await call("POST", `/v1/configs/route/${channelId}/rollback`, { version: 1 });
    expect(res.status, res.text).toBe(200);
    expect(res.body.data).toMatchObject({ version: 3, operation: "rollback_to", source_version: 1, status: "APPLIED", parent_version: 2 });
    const gse = await call("POST", "/api/v2/data/query_route", { condition: { channel_id: channelId }, operation: op });
    expect((gse.body.data as { route: unknown[] }[])[0]?.route).toEqual([original]);
    expect(await store.getHead(route(channelId))).toMatchObject({ current_version: 3, last_good_version: 3 });
  });

  it("shows drift when GSE was changed behind our back", async () => {
    const channelId = uniqueBuiltInChannelId();
    await call("POST", "/api/v2/data/add_route", { metadata: { channel_id: channelId, plat_name: PLAT }, operation: op, route: [kafkaRoute("d", 501)] });
    const clean = await call("GET", `/v1/configs/route/${channelId}/drift`);
    expect(clean.body.data).toMatchObject({ object: `route#${channelId}`, version: 1, in_sync: true, changes: [] });
    // Straight to the simulator, as another tool talking to GSE would.
    const { request } = await import("undici");
    const direct = await request(`${info.gseUrl}/api/v2/data/update_route`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-bkapi-authorization": JSON.stringify({ bk_app_code: info.credentials.gse.appCode, bk_app_secret: info.credentials.gse.appSecret }),
      },
      body: JSON.stringify({ condition: { channel_id: channelId, plat_name: PLAT }, operation: op, specification: { route: [kafkaRoute("d", 599)] } }),
    });
    expect(((await direct.body.json()) as { code: number }).code).toBe(0);
    const drift = await call("GET", `/v1/configs/route/${channelId}/drift`);
    expect(drift.body.data).toMatchObject({
      in_sync: false,
      changes: [{ path: "route[name=d].stream_to.stream_to_id", change: "changed", from: 501, to: 599 }],
    });
  });

  it("answers 400 naming the parameter for a bad kind or id, 404 for an object without versions, 401 without credentials", async () => {
    const bad = await call("GET", "/v1/configs/bogus/12/versions");
    expect(bad.status).toBe(400);
    expect((bad.body.data as { errors: { path: string }[] }).errors.map((e) => e.path)).toContain("pathParameters.kind");
    const badId = await call("GET", "/v1/configs/route/abc/versions");
    expect((badId.body.data as { errors: { path: string }[] }).errors.map((e) => e.path)).toContain("pathParameters.id");
    expect((await call("GET", `/v1/configs/route/${uniqueBuiltInChannelId()}/versions`)).status).toBe(404);
    expect((await callApi(info.gatewayUrl, "/v1/configs/route/1/versions")).status).toBe(401);
    expect((await call("POST", `/v1/configs/route/1/rollback`, { version: "one" })).status).toBe(400);
  });
});
