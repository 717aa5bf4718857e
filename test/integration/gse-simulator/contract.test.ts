import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { GATEWAY_PREFIX, OPERATION_LIST, pathVariants, type OperationName } from "../../../lib/gse/operations.ts";
import {
  esbEnvelopeSchema,
  gatewayEnvelopeSchema,
  GSE_NOT_FOUND_CODE,
  queryRouteDataSchema,
  queryStreamToDataSchema,
  queryStreamToFlatItemSchema,
  queryStreamToNestedItemSchema,
} from "../../../lib/gse/schemas.ts";
import { FIRST_ALLOCATED_CHANNEL_ID, SIM_ALREADY_EXISTS_CODE, SIM_VALIDATION_ERROR_CODE, type GseSimulator } from "../../../local/gse-simulator/index.ts";
import * as examples from "../../helpers/gse-api-examples.ts";
import { call, envelopeOf, startTestSimulator } from "./client.ts";

const GW = `${GATEWAY_PREFIX}/api/v2/data`;
const ESB = "/api/c/compapi/v2/gse";

let sim: GseSimulator;

beforeAll(async () => {
  sim = await startTestSimulator({ agents: 50 });
});
afterAll(async () => {
  await sim.stop();
});
beforeEach(() => {
  sim.reset();
});

async function ok(path: string, body: unknown): Promise<unknown> {
  const envelope = envelopeOf(await call(sim, path, body));
  expect(envelope, envelope.message).toMatchObject({ result: true, code: 0 });
  return envelope.data;
}

describe("every operation on every path variant", () => {
  function sampleBody(name: OperationName): unknown {
    const [agent] = sim.listAgents({ limit: 1 });
    const agentId = agent?.bk_agent_id ?? "";
    const host = { ip: agent?.ip ?? "", bk_cloud_id: agent?.bk_cloud_id ?? 0 };
    const condition = { channel_id: 1500123, plat_name: "bkmonitor" };
    const streamToCondition = { stream_to_id: 501, plat_name: "bkmonitor" };
    const bodies: Record<OperationName, unknown> = {
      add_streamto: examples.addStreamToRequestExample,
      update_streamto: {
        condition: streamToCondition,
        operation: { operator_name: "admin" },
        specification: { stream_to: examples.addStreamToRequestExample.stream_to },
      },
      delete_streamto: { condition: streamToCondition, operation: { operator_name: "admin" } },
      query_streamto: { condition: { plat_name: "bkmonitor" }, operation: { operator_name: "admin" } },
      add_route: examples.addRouteAllocateRequestExample,
      update_route: examples.updateRouteRequestExample,
      delete_route: examples.deleteRouteSpecificationRequestExample,
      query_route: { condition, operation: { operator_name: "admin" } },
      list_agent_state: { agent_id_list: [agentId] },
      list_agent_info: { agent_id_list: [agentId] },
      dispatch_message: { ...examples.dispatchMessageRequestExample, agent_id_list: [agentId] },
      dispatch_multi_message: { slot_id: 37, token: "c2xvdC10b2tlbg", message_id: "m-1", agent_message_list: [{ bk_agent_id: agentId, content: "{}" }] },
      get_agent_status: { bk_supplier_account: "0", hosts: [host] },
      get_agent_info: { bk_supplier_account: 0, hosts: [host] },
      get_proc_status: { meta: { namespace: "nodeman", name: "bkmonitorbeat" }, agent_id_list: [agentId], hosts: [host] },
    };
    return bodies[name];
  }

  it.each(OPERATION_LIST.map((op) => [op.name, op] as const))(
    "serves %s on every path variant with a full envelope and a matching X-Bkapi-Request-Id",
    async (_name, op) => {
      for (const path of pathVariants(op)) {
        const answer = await call(sim, path, sampleBody(op.name));
        expect(answer.status, path).toBe(200);
        const envelope = envelopeOf(answer);
        expect(answer.headers["x-bkapi-request-id"]).toBe(envelope.request_id);
        expect(envelope.result).toBe(envelope.code === 0);
        const schema = path.includes("/compapi/") ? esbEnvelopeSchema(op.responseData) : gatewayEnvelopeSchema(op.responseData);
        if (envelope.result) expect(schema.safeParse(envelope).success, `${path}: ${answer.text}`).toBe(true);
        else expect(envelope.message).not.toBe("");
      }
      expect(sim.counters().calls[op.name]).toBe(pathVariants(op).length);
    },
  );

  it("gives every answer a distinct request_id", async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 5; i++) ids.add(envelopeOf(await call(sim, `${GW}/query_streamto`, sampleBody("query_streamto"))).request_id);
    expect(ids.size).toBe(5);
  });
});

describe("request validation", () => {
  it("answers a wrong-typed field with result false, code 1000001 and the field path, on both doors", async () => {
    const body = { ...examples.addRouteAllocateRequestExample, metadata: { plat_name: 7 } };
    for (const path of [`${GW}/add_route`, `${ESB}/config_add_route/`]) {
      const envelope = envelopeOf(await call(sim, path, body));
      expect(envelope).toMatchObject({ result: false, code: SIM_VALIDATION_ERROR_CODE, data: null });
      expect(envelope.message).toContain("metadata.plat_name");
    }
    expect(sim.counters().applied.add_route).toBe(0);
  });

  it("names array positions in the path of a bad route entry", async () => {
    const body = { ...examples.addRouteAllocateRequestExample, route: [{ name: "r", stream_to: { stream_to_id: "501" } }] };
    const envelope = envelopeOf(await call(sim, `${GW}/add_route`, body));
    expect(envelope.message).toContain("route[0].stream_to.stream_to_id");
  });

  it("answers a body that is not JSON with code 1000001", async () => {
    const envelope = envelopeOf(await call(sim, `${GW}/add_route`, null, { rawBody: "{not json" }));
    expect(envelope).toMatchObject({ result: false, code: SIM_VALIDATION_ERROR_CODE });
  });

  it("answers a non-JSON Content-Type with code 1000001", async () => {
    const answer = await call(sim, `${GW}/query_streamto`, sampleQueryStreamTo(), { headers: { "content-type": "text/plain" } });
    expect(envelopeOf(answer)).toMatchObject({ result: false, code: SIM_VALIDATION_ERROR_CODE });
  });

  it("accepts application/json with a charset, as bk-nodeman sends it", async () => {
    const answer = await call(sim, `${GW}/query_streamto`, sampleQueryStreamTo(), { headers: { "content-type": "application/json; charset=utf-8" } });
    expect(envelopeOf(answer).result).toBe(true);
  });
});

function sampleQueryStreamTo(id?: number): unknown {
  return { condition: { plat_name: "bkmonitor", ...(id === undefined ? {} : { stream_to_id: id }) }, operation: { operator_name: "admin" } };
}

describe("stream_to", () => {
  it("allocates stream_to_id 501 for the §6.2 example and 502 for the next add, on either door", async () => {
    expect(await ok(`${GW}/add_streamto`, examples.addStreamToRequestExample)).toEqual(examples.addStreamToResponseExample.data);
    expect(await ok(`${ESB}/config_add_streamto/`, examples.addStreamToRequestExample)).toEqual({ stream_to_id: 502, name: "mq_stream_to_3" });
  });

  it("answers query_streamto with the nested item plus flat copies of id, name, report_mode and the mode object", async () => {
    await ok(`${GW}/add_streamto`, { ...examples.addStreamToRequestExample, metadata: { plat_name: "bkmonitor", label: { bk_biz_id: 0, bk_biz_name: "" } } });
    const data = await ok(`${GW}/query_streamto`, sampleQueryStreamTo(501));
    expect(data).toEqual([
      {
        ...examples.queryStreamToNestedDataExample[0],
        stream_to_id: 501,
        name: "mq_stream_to_3",
        report_mode: "kafka",
        kafka: examples.addStreamToRequestExample.stream_to.kafka,
      },
    ]);
    expect(queryStreamToDataSchema.safeParse(data).success).toBe(true);
    const [item] = Array.isArray(data) ? data : [];
    expect(queryStreamToNestedItemSchema.safeParse(item).success).toBe(true);
    expect(queryStreamToFlatItemSchema.safeParse(item).success).toBe(true);
  });

  it("lists only the platform's stream_tos when query_streamto has no stream_to_id", async () => {
    await ok(`${GW}/add_streamto`, examples.addStreamToRequestExample);
    await ok(`${GW}/add_streamto`, { ...examples.addStreamToRequestExample, metadata: { plat_name: "tgdp" } });
    const data = await ok(`${GW}/query_streamto`, sampleQueryStreamTo());
    expect(Array.isArray(data) ? data.map((item: { stream_to_id: number }) => item.stream_to_id) : data).toEqual([501]);
  });

  it("answers query_streamto for the missing default id 500 with code 1014505 and 'not found'", async () => {
    const envelope = envelopeOf(await call(sim, `${GW}/query_streamto`, sampleQueryStreamTo(500)));
    expect(envelope).toMatchObject({ result: false, code: GSE_NOT_FOUND_CODE, data: null });
    expect(envelope.message).toContain("not found");
  });

  it("replaces the whole stream_to on update_streamto", async () => {
    await ok(`${GW}/add_streamto`, examples.addStreamToRequestExample);
    const replacement = { name: "mq_stream_to_3", report_mode: "kafka", kafka: { storage_address: [{ ip: "10.0.0.5", port: 9093 }] } };
    await ok(`${GW}/update_streamto`, {
      condition: { stream_to_id: 501, plat_name: "bkmonitor" },
      operation: { operator_name: "admin" },
      specification: { stream_to: replacement },
    });
    const data = await ok(`${GW}/query_streamto`, sampleQueryStreamTo(501));
    expect(data).toMatchObject([{ stream_to: replacement, kafka: replacement.kafka }]);
    expect(JSON.stringify(data)).not.toContain("sasl_passwd");
    expect(sim.counters().applied.update_streamto).toBe(1);
  });

  it("answers update_streamto from another plat_name with 1014505 'not found' and changes nothing", async () => {
    await ok(`${GW}/add_streamto`, examples.addStreamToRequestExample);
    const envelope = envelopeOf(
      await call(sim, `${GW}/update_streamto`, {
        condition: { stream_to_id: 501, plat_name: "tgdp" },
        operation: { operator_name: "admin" },
        specification: { stream_to: { name: "x", report_mode: "file", data_log_path: "/tmp" } },
      }),
    );
    expect(envelope).toMatchObject({ result: false, code: GSE_NOT_FOUND_CODE });
    expect(envelope.message).toContain("not found");
    expect(sim.counters().applied.update_streamto).toBe(0);
  });

  it("deletes a stream_to so that a later query is 'not found'", async () => {
    await ok(`${GW}/add_streamto`, examples.addStreamToRequestExample);
    await ok(`${ESB}/config_delete_streamto`, { condition: { stream_to_id: 501, plat_name: "bkmonitor" }, operation: { operator_name: "admin" } });
    const envelope = envelopeOf(await call(sim, `${GW}/query_streamto`, sampleQueryStreamTo(501)));
    expect(envelope).toMatchObject({ result: false, code: GSE_NOT_FOUND_CODE });
  });
});

describe("routes", () => {
  const queryBody = (channelId: number, platName?: string): unknown => ({
    condition: { channel_id: channelId, ...(platName === undefined ? {} : { plat_name: platName }) },
    operation: { operator_name: "admin" },
  });

  it("registers the §7.2 example under its own channel_id and echoes exactly the stored route", async () => {
    expect(await ok(`${GW}/add_route`, examples.addRouteWithChannelRequestExample)).toEqual(examples.addRouteWithChannelResponseExample.data);
    const data = await ok(`${GW}/query_route`, queryBody(1500123, "bkmonitor"));
    expect(data).toEqual([
      {
        metadata: { version: "1", channel_id: 1500123, plat_name: "bkmonitor" },
        route: examples.addRouteWithChannelRequestExample.route,
        stream_filters: [],
      },
    ]);
    expect(queryRouteDataSchema.safeParse(data).success).toBe(true);
  });

  it("echoes the §7.5 query_route answer byte for byte when that is what was stored", async () => {
    const [channel] = examples.queryRouteDataExample;
    await ok(`${GW}/add_route`, {
      metadata: { channel_id: 1500123, plat_name: "bkmonitor", label: channel?.metadata.label },
      operation: { operator_name: "admin" },
      route: channel?.route,
      stream_filters: channel?.stream_filters,
    });
    expect(await ok(`${ESB}/config_query_route/`, queryBody(1500123))).toEqual(examples.queryRouteDataExample);
  });

  it("allocates channel ids from 1500000 upward for metadata-only adds, skipping ids in use", async () => {
    await ok(`${GW}/add_route`, {
      ...examples.addRouteAllocateRequestExample,
      metadata: { plat_name: "bkmonitor", channel_id: FIRST_ALLOCATED_CHANNEL_ID + 1 },
    });
    const allocated: unknown[] = [];
    for (let i = 0; i < 3; i++) allocated.push(await ok(`${GW}/add_route`, examples.addRouteAllocateRequestExample));
    expect(allocated).toEqual([{ channel_id: 1500000 }, { channel_id: 1500002 }, { channel_id: 1500003 }]);
    expect(await ok(`${GW}/query_route`, queryBody(1500002))).toMatchObject([{ route: [], stream_filters: [] }]);
  });

  it("refuses add_route with a channel_id that already exists", async () => {
    await ok(`${GW}/add_route`, examples.addRouteWithChannelRequestExample);
    const envelope = envelopeOf(await call(sim, `${GW}/add_route`, examples.addRouteWithChannelRequestExample));
    expect(envelope).toMatchObject({ result: false, code: SIM_ALREADY_EXISTS_CODE, data: null });
    expect(sim.counters().applied.add_route).toBe(1);
  });

  it("refuses channel ids outside [1, 2097151] as a validation error naming metadata.channel_id", async () => {
    const envelope = envelopeOf(
      await call(sim, `${GW}/add_route`, { ...examples.addRouteAllocateRequestExample, metadata: { plat_name: "bkmonitor", channel_id: 2097152 } }),
    );
    expect(envelope).toMatchObject({ result: false, code: SIM_VALIDATION_ERROR_CODE });
    expect(envelope.message).toContain("metadata.channel_id");
  });

  it("upserts routes by name on update_route (§7.3 example) and never deletes unmentioned ones", async () => {
    await ok(`${GW}/add_route`, {
      ...examples.addRouteWithChannelRequestExample,
      route: [...examples.addRouteWithChannelRequestExample.route, { name: "keep_me", stream_to: { stream_to_id: 900, redis: { channel_name: "c" } } }],
    });
    await ok(`${GW}/update_route`, examples.updateRouteRequestExample);
    const data = await ok(`${GW}/query_route`, queryBody(1500123));
    expect(data).toMatchObject([
      {
        route: [
          examples.updateRouteRequestExample.specification.route[0],
          { name: "keep_me", stream_to: { stream_to_id: 900, redis: { channel_name: "c" } } },
          examples.updateRouteRequestExample.specification.route[1],
        ],
      },
    ]);
  });

  it("upserts stream_filters by name on update_route and leaves routes alone", async () => {
    await ok(`${GW}/add_route`, examples.addRouteWithChannelRequestExample);
    const filter = { name: "f1", field_index: 0, field_data_type: "int", field_data_value: "1" };
    const changed = { ...filter, field_data_value: "2", field_in: "data" };
    for (const spec of [[filter], [changed]]) {
      await ok(`${GW}/update_route`, {
        condition: { channel_id: 1500123, plat_name: "bkmonitor" },
        operation: { operator_name: "admin" },
        specification: { stream_filters: spec },
      });
    }
    expect(await ok(`${GW}/query_route`, queryBody(1500123))).toMatchObject([
      { route: examples.addRouteWithChannelRequestExample.route, stream_filters: [changed] },
    ]);
  });

  it("removes only the named route with delete_route method specification (§7.4 example)", async () => {
    await ok(`${GW}/add_route`, examples.addRouteWithChannelRequestExample);
    await ok(`${GW}/update_route`, examples.updateRouteRequestExample);
    await ok(`${GW}/delete_route`, examples.deleteRouteSpecificationRequestExample);
    const data = await ok(`${GW}/query_route`, queryBody(1500123));
    expect(data).toMatchObject([{ route: [examples.updateRouteRequestExample.specification.route[0]] }]);
  });

  it("removes the whole channel with delete_route method all, after which query_route is 'not found'", async () => {
    await ok(`${GW}/add_route`, examples.addRouteWithChannelRequestExample);
    await ok(`${GW}/delete_route`, { condition: { channel_id: 1500123, plat_name: "bkmonitor" }, operation: { operator_name: "admin", method: "all" } });
    const envelope = envelopeOf(await call(sim, `${GW}/query_route`, queryBody(1500123)));
    expect(envelope.code).toBe(GSE_NOT_FOUND_CODE);
  });

  it("answers query_route for a missing channel with code 1014505 and 'not found'", async () => {
    const envelope = envelopeOf(await call(sim, `${GW}/query_route`, queryBody(1500999, "bkmonitor")));
    expect(envelope).toEqual({
      result: false,
      code: 1014505,
      message: "channel_id(1500999) not found",
      data: null,
      request_id: envelope.request_id,
    });
  });

  it("answers update_route and delete_route on a missing channel with 1014505 'not found'", async () => {
    for (const [path, body] of [
      [`${GW}/update_route`, examples.updateRouteRequestExample],
      [`${GW}/delete_route`, examples.deleteRouteSpecificationRequestExample],
    ] as const) {
      const envelope = envelopeOf(await call(sim, path, body));
      expect(envelope).toMatchObject({ result: false, code: GSE_NOT_FOUND_CODE });
      expect(envelope.message).toContain("not found");
    }
  });

  it("treats plat_name as ownership on mutations but not as a filter on query_route", async () => {
    await ok(`${GW}/add_route`, examples.addRouteWithChannelRequestExample);
    const wrongOwner = { ...examples.deleteRouteSpecificationRequestExample, condition: { channel_id: 1500123, plat_name: "tgdp" } };
    expect(envelopeOf(await call(sim, `${GW}/delete_route`, wrongOwner)).code).toBe(GSE_NOT_FOUND_CODE);
    expect(await ok(`${GW}/query_route`, queryBody(1500123, "tgdp"))).toMatchObject([{ metadata: { plat_name: "bkmonitor" } }]);
  });
});
