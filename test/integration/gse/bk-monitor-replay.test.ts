/**
 * An unchanged bk-monitor, with only its GSE base URL pointed at us: the request bodies its GSE
 * wrapper sends (the examples of docs/gse-contract.md §4.1, §5.2, §6.2–6.5, §7.2–7.5, copied in
 * test/unit/gse/fixtures), on the exact paths and with the headers it uses (§1, §2.1), in the
 * order its callers make them (§9), judged by its own success rule (§2.2) and reading only what
 * it reads. Ids and names are made unique per run; their shape (bk-monitor's naming) is kept.
 */
import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { callApi, simulatorControl, useStack, type ApiResponse, uniqueBuiltInChannelId, uniqueSimIp, withStackLock } from "../../helpers/stack.ts";
import * as examples from "../../helpers/gse-api-examples.ts";

const { info } = useStack();

/** bkmonitor/api/gse/default.py: gateway paths without a trailing slash, ESB paths with one. */
const PATHS = {
  gateway: {
    add_streamto: "/api/bk-gse/prod/api/v2/data/add_streamto",
    update_streamto: "/api/bk-gse/prod/api/v2/data/update_streamto",
    query_streamto: "/api/bk-gse/prod/api/v2/data/query_streamto",
    add_route: "/api/bk-gse/prod/api/v2/data/add_route",
    update_route: "/api/bk-gse/prod/api/v2/data/update_route",
    delete_route: "/api/bk-gse/prod/api/v2/data/delete_route",
    query_route: "/api/bk-gse/prod/api/v2/data/query_route",
  },
  esb: {
    add_streamto: "/api/c/compapi/v2/gse/config_add_streamto/",
    update_streamto: "/api/c/compapi/v2/gse/config_update_streamto/",
    query_streamto: "/api/c/compapi/v2/gse/config_query_streamto/",
    add_route: "/api/c/compapi/v2/gse/config_add_route/",
    update_route: "/api/c/compapi/v2/gse/config_update_route/",
    delete_route: "/api/c/compapi/v2/gse/config_delete_route/",
    query_route: "/api/c/compapi/v2/gse/config_query_route/",
  },
} as const;
/** ListAgentState and DispatchMessage always use the gateway. */
const LIST_AGENT_STATE = "/api/bk-gse/prod/api/v2/cluster/list_agent_state";
const DISPATCH_MESSAGE = "/api/bk-gse/prod/api/v2/cluster/dispatch_message";

/** What bk-monitor's APIResource sends (§2.1): the auth header with bk_username, tenant `system`, language. */
const headers = {
  "X-Bkapi-Authorization": JSON.stringify({ ...info.credentials.caller, bk_username: "admin" }),
  "X-Bk-Tenant-Id": "system",
  "blueking-language": "en",
};

interface BkMonitorResult {
  /** bk-monitor's rule (§2.2): HTTP 2xx and not (`result` false and `code` != 0). */
  readonly ok: boolean;
  readonly data: unknown;
  readonly message: string;
  readonly res: ApiResponse;
}

/** One call as bk-monitor's generic wrapper makes it: it adds `bk_username` to the body. */
async function bkMonitor(path: string, body: Record<string, unknown>): Promise<BkMonitorResult> {
  const res = await callApi(info.gatewayUrl, path, { method: "POST", headers, body: { ...body, bk_username: "admin" } });
  const failed = res.body.result === false && Number(res.body.code) !== 0;
  // It logs the request id from the body, else from the response header.
  expect(res.body.request_id ?? res.headers["x-bkapi-request-id"]).toEqual(expect.any(String));
  return { ok: res.status >= 200 && res.status < 300 && !failed, data: res.body.data, message: String(res.body.message ?? ""), res };
}

/** bk-monitor tells "absent" from "failed" by these words in the error (§7.5). */
const isNotFound = (result: BkMonitorResult): boolean => !result.ok && result.message.includes("not found");

interface Ids {
  /** Replaces the example's data id 1500123 everywhere it occurs (channel ids, route names, topics). */
  readonly dataId?: number;
  /** Replaces the example's stream_to ids: example id → ours. */
  readonly streamTo?: Readonly<Record<number, number>>;
  /** Replaces the example's stream_to name mq_stream_to_3. */
  readonly streamToName?: string;
}

/** An example body with bk-monitor's ids swapped for this run's; the shape stays the example's. */
function withIds(example: unknown, ids: Ids): Record<string, unknown> {
  let text = JSON.stringify(example);
  for (const [from, to] of Object.entries(ids.streamTo ?? {})) text = text.split(`"stream_to_id":${from}`).join(`"stream_to_id":${to}`);
  if (ids.dataId !== undefined) text = text.split("1500123").join(String(ids.dataId));
  if (ids.streamToName !== undefined) text = text.split('"mq_stream_to_3"').join(JSON.stringify(ids.streamToName));
  return JSON.parse(text) as Record<string, unknown>;
}

const run = randomUUID().replace(/-/g, "").slice(0, 10);

/** Both this file and its neighbour write routes and read add_route counter deltas. */
const withRouteCounterLock = <T>(fn: () => Promise<T>): Promise<T> => withStackLock(info, "add-route-counters", fn);

/** bk-monitor's route for a data id (§7.1): topic `0bkmonitor_{id}0`, name `stream_to_bkmonitor_kafka_{topic}`. */
function bkMonitorRoute(dataId: number, streamToId: number) {
  const topic = `0bkmonitor_${dataId}0`;
  return { name: `stream_to_bkmonitor_kafka_${topic}`, stream_to: { stream_to_id: streamToId, kafka: { topic_name: topic } } };
}

describe.each([["gateway" as const], ["esb" as const]])("bk-monitor on the %s paths", (door) => {
  const path = PATHS[door];
  const streamToName = `mq_stream_to_${run}_${door}`;
  let streamToId = -1;

  beforeAll(async () => {
    // KafkaGseSyncer.register_stream_to_info_to_gse (§6.2): the example, with this run's cluster name.
    const added = await bkMonitor(path.add_streamto, withIds(examples.addStreamToRequestExample, { streamToName }));
    expect(added.ok, added.res.text).toBe(true);
    streamToId = (added.data as { stream_to_id: number }).stream_to_id;
  });

  it("registers a Kafka cluster as a stream_to and reads data.stream_to_id (§6.2)", () => {
    expect(Number.isInteger(streamToId)).toBe(true);
  });

  it("treats the default stream_to 500 as absent when the query errors (§6.5, is_default_stream_to_id_exists)", async () => {
    const result = await bkMonitor(path.query_streamto, { condition: { stream_to_id: 500, plat_name: "bkmonitor" }, operation: { operator_name: "admin" } });
    expect(result.ok).toBe(false);
    expect(result.res.status).toBe(200);
  });

  it("updates the stream_to with the full spec (§6.3) and the Kafka tail reads it back, nested or flat (§6.5)", async () => {
    const stream_to = {
      ...examples.addStreamToRequestExample.stream_to,
      name: streamToName,
      kafka: { ...examples.addStreamToRequestExample.stream_to.kafka, sasl_passwd: "rotated" },
    };
    const updated = await bkMonitor(path.update_streamto, {
      condition: { stream_to_id: streamToId, plat_name: "bkmonitor" },
      operation: { operator_name: "admin" },
      specification: { stream_to },
    });
    expect(updated.ok, updated.res.text).toBe(true);

    const queried = await bkMonitor(path.query_streamto, {
      condition: { plat_name: "bkmonitor", stream_to_id: streamToId },
      operation: { operator_name: "admin" },
    });
    expect(queried.ok).toBe(true);
    expect(Array.isArray(queried.data) && queried.data.length > 0).toBe(true);
    const [item] = queried.data as Record<string, unknown>[];
    // bk-log / bk-cmdb (nested) and bk-monitor's Kafka tail (flat) must both find their fields.
    expect(item).toMatchObject({
      metadata: { stream_to_id: streamToId },
      stream_to: { name: streamToName, report_mode: "kafka", kafka: { storage_address: [{ ip: "kafka.service.consul", port: 9092 }] } },
      stream_to_id: streamToId,
      kafka: { storage_address: [{ ip: "kafka.service.consul", port: 9092 }], sasl_username: "bkmonitor", sasl_passwd: "rotated" },
    });
  });

  it("allocates a data id, registers its route, and a refresh finds nothing to change (§7.2, §7.3, §7.5)", async () => {
    await withRouteCounterLock(async () => {
      // DataSource.apply_for_data_id_from_gse: add_route with metadata + operation only.
      const allocated = await bkMonitor(path.add_route, examples.addRouteAllocateRequestExample);
      expect(allocated.ok, allocated.res.text).toBe(true);
      const dataId = (allocated.data as { channel_id: number }).channel_id;
      expect(Number.isInteger(dataId)).toBe(true);

      // register_to_gse → refresh_gse_config_to_gse: query, compare {name, stream_to}, update on a difference.
      const update = withIds(examples.updateRouteRequestExample, { dataId, streamTo: { 502: streamToId } });
      const desired = (update.specification as { route: unknown[] }).route;
      const query = { condition: { channel_id: dataId, plat_name: "bkmonitor" }, operation: { operator_name: "admin" } };
      const first = await bkMonitor(path.query_route, query);
      expect(first.ok || isNotFound(first)).toBe(true);
      const stored = first.ok ? ((first.data as { route?: unknown[] | null }[])[0]?.route ?? []) : [];
      expect(stored).not.toEqual(desired);
      const updated = await bkMonitor(path.update_route, update);
      expect(updated.ok, updated.res.text).toBe(true);

      const again = await bkMonitor(path.query_route, query);
      expect(again.ok).toBe(true);
      const routes = (again.data as { route: { name: string; stream_to: unknown }[] }[])[0]?.route ?? [];
      // The compare bk-monitor makes on every refresh: equal now, so no update is sent again.
      expect(routes.map(({ name, stream_to }) => ({ name, stream_to }))).toEqual(desired);
    });
  });

  it('registers a built-in data id after "not found", migrates, trims and deletes its routes (§7.2–7.5)', async () => {
    await withRouteCounterLock(async () => {
      const dataId = uniqueBuiltInChannelId();
      const ids: Ids = { dataId, streamTo: { 501: streamToId } };
      const query = { condition: { channel_id: dataId, plat_name: "bkmonitor" }, operation: { operator_name: "admin" } };

      // register_to_gse: query first, add only on "not found".
      const missing = await bkMonitor(path.query_route, query);
      expect(isNotFound(missing), missing.res.text).toBe(true);
      expect(missing.res.status).toBe(200);

      // add_built_in_channel_id_to_gse: checks data.channel_id == bk_data_id.
      const added = await bkMonitor(path.add_route, withIds(examples.addRouteWithChannelRequestExample, ids));
      expect(added.ok, added.res.text).toBe(true);
      expect((added.data as { channel_id: number }).channel_id).toBe(dataId);

      // Kafka tail / storage details read route[0].stream_to.{stream_to_id, kafka.topic_name}.
      const registered = await bkMonitor(path.query_route, query);
      expect(registered.ok).toBe(true);
      const [channel] = registered.data as { route: { name: string; stream_to: { stream_to_id: number; kafka: { topic_name: string } } }[] }[];
      expect(channel?.route[0]?.stream_to).toEqual({ stream_to_id: streamToId, kafka: { topic_name: `0bkmonitor_${dataId}0` } });
      expect(channel?.route.map(({ name, stream_to }) => ({ name, stream_to }))).toEqual([bkMonitorRoute(dataId, streamToId)]);

      // Data rebuilder: update_route (upsert by name), then delete the migration route by name.
      const migrated = await bkMonitor(path.update_route, withIds(examples.updateRouteRequestExample, ids));
      expect(migrated.ok, migrated.res.text).toBe(true);
      const afterMigrate = await bkMonitor(path.query_route, query);
      expect((afterMigrate.data as { route: { name: string }[] }[])[0]?.route.map((r) => r.name)).toEqual([
        `stream_to_bkmonitor_kafka_0bkmonitor_${dataId}0`,
        `migrate_kafka_data_id_${dataId}`,
      ]);

      const trimmed = await bkMonitor(path.delete_route, withIds(examples.deleteRouteSpecificationRequestExample, ids));
      expect(trimmed.ok, trimmed.res.text).toBe(true);
      const afterTrim = await bkMonitor(path.query_route, query);
      expect((afterTrim.data as { route: { name: string }[] }[])[0]?.route.map((r) => r.name)).toEqual([`stream_to_bkmonitor_kafka_0bkmonitor_${dataId}0`]);

      // cleanup_data_id / delete_gse_router: method "all"; afterwards the data id is "not found".
      const deleted = await bkMonitor(path.delete_route, {
        condition: { channel_id: dataId, plat_name: "bkmonitor" },
        operation: { operator_name: "admin", method: "all" },
      });
      expect(deleted.ok, deleted.res.text).toBe(true);
      expect(isNotFound(await bkMonitor(path.query_route, query))).toBe(true);
    });
  });
});

describe("bk-monitor's cluster calls (always on the gateway)", () => {
  const running = `0200000000${run}running000000n`;
  const upgrading = `0200000000${run}upgrading00000n`;
  const legacyIp = uniqueSimIp("10.251");

  beforeAll(async () => {
    await simulatorControl(info, "POST", "agents", {
      agents: [
        { bk_agent_id: running, ip: uniqueSimIp("10.251"), status_code: 2, churn: false },
        { bk_agent_id: upgrading, ip: legacyIp, status_code: 5, churn: false },
      ],
    });
  });

  it("dispatches a slot reply exactly as process_gse_slot_message sends it (§5.2)", async () => {
    // bk-monitor injects its GSE_SLOT_ID/GSE_SLOT_TOKEN: the slot registered for this deployment.
    // A message id of this run's own, in bkmonitorbeat's form: a message id is a command's identity.
    const messageId = `bkmonitorbeat.fetch/host/dataid.${run.padEnd(16, "0").slice(0, 16)}.1`;
    const body = {
      ...examples.dispatchMessageRequestExample,
      message_id: messageId,
      slot_id: info.credentials.gse.slotId,
      token: info.credentials.gse.slotToken,
      agent_id_list: [running],
    };
    const result = await bkMonitor(DISPATCH_MESSAGE, body);
    expect(result.ok, result.res.text).toBe(true);
    // GSE's answer (nobody undelivered), and the command it became beside it.
    expect(result.data).toMatchObject({ results: [], command: { message_id: messageId, targets: 1 } });
    expect(result.res.text).not.toContain(info.credentials.gse.slotToken);
  });

  it("reads agent status from list_agent_state: bk_agent_id as sent, alive only for status_code 2 (§4.1)", async () => {
    const unknown = `0:${uniqueSimIp("10.253")}`;
    const result = await bkMonitor(LIST_AGENT_STATE, { agent_id_list: [running, `0:${legacyIp}`, unknown] });
    expect(result.ok, result.res.text).toBe(true);
    const items = result.data as { bk_agent_id: string; status_code: number }[];
    const alive = new Set(items.filter((i) => i.status_code === 2).map((i) => i.bk_agent_id));
    expect(alive.has(running)).toBe(true);
    expect(alive.has(`0:${legacyIp}`)).toBe(false);
    expect(items.find((i) => i.bk_agent_id === `0:${legacyIp}`)?.status_code).toBe(5);
    expect(items.some((i) => i.bk_agent_id === unknown)).toBe(false);
  });
});
