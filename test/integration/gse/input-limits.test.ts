/**
 * Valid-shaped bodies that DynamoDB would refuse, through the local gateway: GSE's configuration
 * objects are loose (extra keys are kept and recorded), so an extra key nested too deep, a number
 * that cannot be stored, an empty key or a record too large used to answer 500 with no field. Each
 * now answers 400 or 413 naming the field, and nothing reaches GSE or the configs table: checked
 * per object (this file's own channel ids), not with the simulator's global counters.
 */
import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { readChannel } from "../../../lib/gse/objects.ts";
import { configStore, directGse, route } from "../../helpers/configs.ts";
import { callApi, uniqueBuiltInChannelId, useStack, type ApiResponse } from "../../helpers/stack.ts";

const { info, authHeader, dynamo } = useStack();
const store = configStore(info, dynamo);
const gse = directGse(info);
const run = randomUUID().slice(0, 8);
const PLAT = `limits_${run}`;
const op = { operator_name: "admin" };

const post = (path: string, body: string | object): Promise<ApiResponse> =>
  callApi(info.gatewayUrl, `/api/v2/data/${path}`, { method: "POST", headers: authHeader, body: typeof body === "string" ? body : JSON.stringify(body) });

const entry = (name: string, kafkaExtra: Record<string, unknown> = {}) => ({
  name,
  stream_to: { stream_to_id: 501, kafka: { topic_name: `limits_${run}_${name}`, ...kafkaExtra } },
});

/** A channel of this file's, with one route, that the updates below try to change. */
let existing: number;

beforeAll(async () => {
  existing = uniqueBuiltInChannelId();
  const res = await post("add_route", { metadata: { channel_id: existing, plat_name: PLAT }, operation: op, route: [entry("r0")] });
  expect(res.status, res.text).toBe(200);
});

/** Neither GSE nor the configs table holds anything of a channel an add was refused for. */
async function expectNothingOf(channelId: number): Promise<void> {
  expect(await readChannel(gse, channelId, "admin")).toBeUndefined();
  expect(await store.getHead(route(channelId))).toBeUndefined();
  expect(await store.listAddAttempts(route(channelId), 10)).toEqual([]);
}

/** The existing channel is as beforeAll left it: one version, one route in GSE. */
async function expectExistingUnchanged(): Promise<void> {
  expect((await store.getHead(route(existing)))?.latest_version).toBe(1);
  expect((await readChannel(gse, existing, "admin"))?.route?.map((r) => r.name)).toEqual(["r0"]);
}

/** A route entry whose kafka object carries `extra` as raw JSON text (1e400 does not survive JSON.stringify). */
const withRawExtra = (raw: string) => ({
  add: (channelId: number) =>
    `{"metadata":{"channel_id":${channelId},"plat_name":"${PLAT}"},"operation":{"operator_name":"admin"},"route":[{"name":"r1","stream_to":{"stream_to_id":501,"kafka":{"topic_name":"t_${run}","extra":${raw}}}}]}`,
  update: () =>
    `{"condition":{"channel_id":${existing},"plat_name":"${PLAT}"},"operation":{"operator_name":"admin"},"specification":{"route":[{"name":"r1","stream_to":{"stream_to_id":501,"kafka":{"topic_name":"t_${run}","extra":${raw}}}}]}}`,
});

const deep = (levels: number): string => `${'{"a":'.repeat(levels)}1${"}".repeat(levels)}`;

const refusedAs400: readonly { what: string; raw: string; field: RegExp }[] = [
  { what: "an extra field nested 40 levels deep", raw: deep(40), field: /stream_to\.kafka\.extra(\.a)+$/ },
  { what: "1e400", raw: "1e400", field: /stream_to\.kafka\.extra$/ },
  { what: "a 40-digit number", raw: "1234567890123456789012345678901234567890", field: /stream_to\.kafka\.extra$/ },
  { what: 'an empty key ""', raw: '{"":"x"}', field: /stream_to\.kafka\.extra$/ },
];

describe("a loose GSE object carrying what DynamoDB cannot store", () => {
  it.each(refusedAs400)("add_route with $what answers 400 INVALID_ARGS naming the field; nothing is written", async ({ raw, field }) => {
    const channelId = uniqueBuiltInChannelId();
    const res = await post("add_route", withRawExtra(raw).add(channelId));
    expect(res.status, res.text).toBe(400);
    expect(res.body).toMatchObject({ result: false, code: 1640001, code_name: "INVALID_ARGS" });
    const paths = (res.body.data as { errors: { path: string }[] }).errors.map((e) => e.path);
    expect(paths).toEqual([expect.stringMatching(new RegExp(`^route\\.0\\.${field.source}`))]);
    await expectNothingOf(channelId);
  });

  it.each(refusedAs400)("update_route with $what answers 400 INVALID_ARGS naming the field; the channel is unchanged", async ({ raw, field }) => {
    const res = await post("update_route", withRawExtra(raw).update());
    expect(res.status, res.text).toBe(400);
    const paths = (res.body.data as { errors: { path: string }[] }).errors.map((e) => e.path);
    expect(paths).toEqual([expect.stringMatching(new RegExp(`^specification\\.route\\.0\\.${field.source}`))]);
    await expectExistingUnchanged();
  });

  it("an empty key in metadata.label answers 400 naming metadata.label", async () => {
    const channelId = uniqueBuiltInChannelId();
    const res = await post("add_route", { metadata: { channel_id: channelId, plat_name: PLAT, label: { "": 1 } }, operation: op, route: [entry("r1")] });
    expect(res.status, res.text).toBe(400);
    expect(res.body.data).toEqual({ errors: [{ path: "metadata.label", message: "has an empty key" }] });
    await expectNothingOf(channelId);
  });
});

describe("a body too large to record as one version", () => {
  it("a 300 KB extra field answers 413 naming that field; nothing is written", async () => {
    const channelId = uniqueBuiltInChannelId();
    const res = await post("add_route", {
      metadata: { channel_id: channelId, plat_name: PLAT },
      operation: op,
      route: [entry("r1", { extra: "x".repeat(300 * 1024) })],
    });
    expect(res.status, res.text.slice(0, 300)).toBe(413);
    expect(res.body).toMatchObject({ result: false, code: 1641301, code_name: "BODY_SIZE_LIMIT_EXCEED", data: { field: "route.0.stream_to.kafka.extra" } });
    expect(res.body.message).toContain("route.0.stream_to.kafka.extra");
    await expectNothingOf(channelId);
  });

  it("1,000 routes of 250 B each (within the route limit) answer 413 naming the route list, not 500", async () => {
    const channelId = uniqueBuiltInChannelId();
    const routes = Array.from({ length: 1000 }, (_, i) => ({
      name: `route_${String(i).padStart(4, "0")}`,
      stream_to: { stream_to_id: 501, kafka: { topic_name: `limits_${run}_${String(i).padStart(4, "0")}_${"t".repeat(170)}` } },
    }));
    expect(JSON.stringify(routes[0]).length).toBeGreaterThanOrEqual(250);
    const res = await post("add_route", { metadata: { channel_id: channelId, plat_name: PLAT }, operation: op, route: routes });
    expect(res.status, res.text.slice(0, 300)).toBe(413);
    expect(res.body).toMatchObject({ code_name: "BODY_SIZE_LIMIT_EXCEED", data: { field: "route", limit_bytes: expect.any(Number) } });
    await expectNothingOf(channelId);

    const update = await post("update_route", { condition: { channel_id: existing, plat_name: PLAT }, operation: op, specification: { route: routes } });
    expect(update.status, update.text.slice(0, 300)).toBe(413);
    expect(update.body).toMatchObject({ data: { field: "specification.route" } });
    await expectExistingUnchanged();
  });

  it("routes added a few at a time that together would not fit: the update that would overflow answers 413 naming document.route", async () => {
    const channelId = uniqueBuiltInChannelId();
    const batch = (from: number) =>
      Array.from({ length: 100 }, (_, i) => ({
        name: `grow_${from + i}`,
        stream_to: { stream_to_id: 501, kafka: { topic_name: `limits_${run}_${from + i}_${"g".repeat(900)}` } },
      }));
    const added = await post("add_route", { metadata: { channel_id: channelId, plat_name: PLAT }, operation: op, route: batch(0) });
    expect(added.status, added.text.slice(0, 300)).toBe(200);
    let answer: ApiResponse | undefined;
    for (let from = 100; from < 1000 && answer === undefined; from += 100) {
      const res = await post("update_route", { condition: { channel_id: channelId, plat_name: PLAT }, operation: op, specification: { route: batch(from) } });
      if (res.status !== 200) answer = res;
    }
    expect(answer?.status, answer?.text.slice(0, 300)).toBe(413);
    expect(answer?.body).toMatchObject({ code_name: "BODY_SIZE_LIMIT_EXCEED", data: { field: "document.route" } });
    // The refused update left the head where the last good one put it, unlocked.
    const head = await store.getHead(route(channelId));
    expect(head?.pending_version).toBeUndefined();
    expect(head?.current_version).toBe(head?.latest_version);
  });
});

describe("what real clients send stays accepted", () => {
  it("add_streamto with bk_username, bk_app_code and GSE's kafka credential fields answers 200", async () => {
    const res = await post("add_streamto", {
      bk_username: "admin",
      bk_app_code: "bk_monitorv3",
      metadata: { plat_name: PLAT, label: { bk_biz_id: 2, odm: "limits" } },
      operation: op,
      stream_to: {
        name: `limits_kafka_${run}`,
        report_mode: "kafka",
        kafka: {
          storage_address: [{ ip: "10.0.0.9", port: 9092 }],
          sasl_username: "u",
          sasl_passwd: "p",
          ssl_key_pass: "kp",
          ssl_keystore_password: "ksp",
          ssl_truststore_password: "tsp",
          sasl_jaas_config: 'org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="p";',
        },
      },
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body.data).toMatchObject({ stream_to_id: expect.any(Number) });
  });

  it("add_streamto with redis passwords and with a pulsar token answers 200", async () => {
    const redis = await post("add_streamto", {
      metadata: { plat_name: PLAT },
      operation: op,
      stream_to: {
        name: `limits_redis_${run}`,
        report_mode: "redis",
        redis: { storage_address: [{ ip: "10.0.0.9", port: 6379 }], passwd: "rp", sentinel_passwd: "sp", master_name: "m", mode: "sentinel" },
      },
    });
    expect(redis.status, redis.text).toBe(200);
    const pulsar = await post("add_streamto", {
      metadata: { plat_name: PLAT },
      operation: op,
      stream_to: { name: `limits_pulsar_${run}`, report_mode: "pulsar", pulsar: { storage_address: [{ ip: "10.0.0.9", port: 6650 }], token: "tk" } },
    });
    expect(pulsar.status, pulsar.text).toBe(200);
  });
});
