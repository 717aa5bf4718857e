/**
 * What a config change or a history read says about input it cannot take, through the local
 * gateway: a repeat of an add still running (no Idempotency-Key), a lone surrogate in a name, and
 * path and query numbers that are not plain decimal. Objects are this file's own.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { bodyDedupePk, requestHash } from "../../../lib/config-versions/idempotency.ts";
import { readChannel } from "../../../lib/gse/objects.ts";
import { configStore, directGse, route } from "../../helpers/configs.ts";
import { callApi, uniqueBuiltInChannelId, useStack, type ApiResponse } from "../../helpers/stack.ts";

const { info, authHeader, dynamo } = useStack();
const store = configStore(info, dynamo);
const run = randomUUID().slice(0, 8);
const PLAT = `cfginput_${run}`;
const op = { operator_name: "admin" };

const call = (method: string, path: string, body?: string | object, headers: Record<string, string> = {}): Promise<ApiResponse> =>
  callApi(info.gatewayUrl, path, { method, headers: { ...authHeader, ...headers }, ...(body !== undefined ? { body } : {}) });

const errorPaths = (res: ApiResponse): string[] => ((res.body.data as { errors?: { path: string }[] } | null)?.errors ?? []).map((e) => e.path);

describe("a repeated add while the first is still running", () => {
  it("without an Idempotency-Key, answers 409 saying an identical add is in progress (reason identical_add_in_progress)", async () => {
    const body = {
      metadata: { plat_name: PLAT },
      operation: op,
      stream_to: { name: `st_${run}`, report_mode: "kafka", kafka: { storage_address: [{ ip: "10.0.0.7", port: 9092 }] } },
    };
    // What the first of two identical adds holds while GSE has not answered it yet.
    await store.claimIdempotency(
      bodyDedupePk(info.credentials.caller.bk_app_code, requestHash("add_streamto", body)),
      requestHash("add_streamto", body),
      Date.now(),
      60,
      60_000,
    );
    const res = await call("POST", "/api/v2/data/add_streamto", body);
    expect(res.status, res.text).toBe(409);
    expect(res.body).toMatchObject({
      result: false,
      code_name: "CONFLICT",
      message: expect.stringContaining("an identical add_streamto"),
      data: { reason: "identical_add_in_progress", operation: "add_streamto" },
    });
    expect(res.body.message).not.toContain("idempotency key");
    expect(res.body.data).not.toHaveProperty("idempotency_key");
  });
});

describe("a lone surrogate", () => {
  it("in a route name answers 400 naming route.0.name; nothing is stored, nothing reaches GSE", async () => {
    const channelId = uniqueBuiltInChannelId();
    // JSON.stringify writes a lone surrogate as the escape \ud800, which JSON.parse turns back into one.
    const body = JSON.stringify({
      metadata: { channel_id: channelId, plat_name: PLAT },
      operation: op,
      route: [{ name: "r\ud800", stream_to: { stream_to_id: 501, kafka: { topic_name: `t_${run}` } } }],
    });
    expect(body).toContain("\\ud800");
    const res = await call("POST", "/api/v2/data/add_route", body);
    expect(res.status, res.text).toBe(400);
    expect(res.body).toMatchObject({ code_name: "INVALID_ARGS" });
    expect(errorPaths(res)).toEqual(["route.0.name"]);
    expect(await store.getHead(route(channelId))).toBeUndefined();
    expect(await store.listAddAttempts(route(channelId), 10)).toEqual([]);
    expect(await readChannel(directGse(info), channelId, "admin")).toBeUndefined();
  });

  it("in a key of a label answers 400 naming the label", async () => {
    const channelId = uniqueBuiltInChannelId();
    const body = `{"metadata":{"channel_id":${channelId},"plat_name":"${PLAT}","label":{"odm\\udc01":"x"}},"operation":{"operator_name":"admin"}}`;
    const res = await call("POST", "/api/v2/data/add_route", body);
    expect(res.status, res.text).toBe(400);
    expect(errorPaths(res)).toEqual(["metadata.label"]);
    expect(() => JSON.parse(res.text) as unknown).not.toThrow();
  });
});

describe("numbers in paths and queries", () => {
  it.each(["0x10", "1e3", "%201", "1.0", "-1", "99999999999999999999"])(
    "GET /v1/configs/route/%s/versions answers 400 naming pathParameters.id",
    async (id) => {
      const res = await call("GET", `/v1/configs/route/${id}/versions`);
      expect(res.status, res.text).toBe(400);
      expect(res.body).toMatchObject({ code_name: "INVALID_ARGS" });
      expect(errorPaths(res)).toEqual(["pathParameters.id"]);
    },
  );

  it.each(["0x1", "1e0", "%201"])("a version %s in the path answers 400 naming pathParameters.version", async (version) => {
    const res = await call("GET", `/v1/configs/route/1/versions/${version}`);
    expect(res.status, res.text).toBe(400);
    expect(errorPaths(res)).toEqual(["pathParameters.version"]);
  });

  it.each(["limit=0x10", "limit=1e1", "limit=%2010", "cursor=0x2"])("?%s on a history answers 400 naming the query parameter", async (query) => {
    const res = await call("GET", `/v1/configs/route/1/versions?${query}`);
    expect(res.status, res.text).toBe(400);
    expect(errorPaths(res)).toEqual([`queryStringParameters.${query.split("=")[0]}`]);
  });

  it("plain decimal ids, versions and limits are still taken", async () => {
    const channelId = uniqueBuiltInChannelId();
    const added = await call("POST", "/api/v2/data/add_route", {
      metadata: { channel_id: channelId, plat_name: PLAT },
      operation: op,
      route: [{ name: "r1", stream_to: { stream_to_id: 501, kafka: { topic_name: `t_${run}` } } }],
    });
    expect(added.status, added.text).toBe(200);
    const list = await call("GET", `/v1/configs/route/${channelId}/versions?limit=10`);
    expect(list.status, list.text).toBe(200);
    expect((list.body.data as { versions: { version: number }[] }).versions.map((v) => v.version)).toEqual([1, 0]);
    const diff = await call("GET", `/v1/configs/route/${channelId}/diff?from=0&to=1`);
    expect(diff.status, diff.text).toBe(200);
  });
});
