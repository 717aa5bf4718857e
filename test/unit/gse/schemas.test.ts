import { describe, expect, it } from "vitest";
import type { z } from "zod";
import { findOperationByPath, GATEWAY_PREFIX, OPERATION_LIST, OPERATIONS, pathVariants } from "../../../lib/gse/operations.ts";
import {
  addRouteDataSchema,
  addRouteRequestSchema,
  addStreamToDataSchema,
  addStreamToRequestSchema,
  anyEsbEnvelopeSchema,
  deleteRouteRequestSchema,
  dispatchMessageDataSchema,
  dispatchMessageRequestSchema,
  dispatchMultiMessageRequestSchema,
  esbEnvelopeSchema,
  gatewayEnvelopeSchema,
  gatewayErrorBodySchema,
  getAgentStatusDataSchema,
  getAgentStatusRequestSchema,
  getProcStatusRequestSchema,
  isGseAgentId,
  listAgentStateDataSchema,
  listAgentStateRequestSchema,
  pulsarRouteSchema,
  queryRouteDataSchema,
  queryRouteRequestSchema,
  queryStreamToDataSchema,
  queryStreamToRequestSchema,
  routeEntrySchema,
  slotCallbackSchema,
  streamFilterSchema,
  streamToSchema,
  updateRouteRequestSchema,
  updateStreamToRequestSchema,
} from "../../../lib/gse/schemas.ts";
import * as examples from "../../helpers/gse-api-examples.ts";

/** Paths (joined with ".") of every issue when `value` fails `schema`; [] when it parses. */
function issuePaths(schema: z.ZodType, value: unknown): string[] {
  const parsed = schema.safeParse(value);
  return parsed.success ? [] : parsed.error.issues.map((issue) => issue.path.join("."));
}

describe("docs/gse-contract.md examples parse with their schemas", () => {
  it.each([
    ["add_streamto request (§6.2)", addStreamToRequestSchema, examples.addStreamToRequestExample],
    ["add_route request with channel_id (§7.2)", addRouteRequestSchema, examples.addRouteWithChannelRequestExample],
    ["add_route allocation request (§7.2)", addRouteRequestSchema, examples.addRouteAllocateRequestExample],
    ["update_route request (§7.3)", updateRouteRequestSchema, examples.updateRouteRequestExample],
    ["delete_route specification request (§7.4)", deleteRouteRequestSchema, examples.deleteRouteSpecificationRequestExample],
    ["list_agent_state request (§4.1)", listAgentStateRequestSchema, examples.listAgentStateRequestExample],
    ["get_agent_status request (§4.3)", getAgentStatusRequestSchema, examples.getAgentStatusRequestExample],
    ["dispatch_message request (§5.2)", dispatchMessageRequestSchema, examples.dispatchMessageRequestExample],
    ["slot callback body (§5.4)", slotCallbackSchema, examples.slotCallbackExample],
    ["query_route data (§7.5)", queryRouteDataSchema, examples.queryRouteDataExample],
    ["query_streamto nested data (§6.5)", queryStreamToDataSchema, examples.queryStreamToNestedDataExample],
    ["query_streamto flat data (§6.5)", queryStreamToDataSchema, examples.queryStreamToFlatDataExample],
    ["get_agent_status data (§4.3)", getAgentStatusDataSchema, examples.getAgentStatusDataExample],
    ["gateway 429 error body (§2.3)", gatewayErrorBodySchema, examples.rateLimitGatewayErrorExample],
  ] as const)("parses the %s", (_name, schema, value) => {
    expect(issuePaths(schema, value)).toEqual([]);
  });

  it.each([
    ["success envelope (§2.2)", addRouteDataSchema, examples.successEnvelopeExample],
    ["add_streamto response (§6.2)", addStreamToDataSchema, examples.addStreamToResponseExample],
    ["add_route response (§7.2)", addRouteDataSchema, examples.addRouteWithChannelResponseExample],
    ["add_route allocation response (§7.2)", addRouteDataSchema, examples.addRouteAllocateResponseExample],
    ["list_agent_state response (§4.1)", listAgentStateDataSchema, examples.listAgentStateResponseExample],
    ["dispatch_message all-delivered response (§5.2)", dispatchMessageDataSchema, examples.dispatchAllDeliveredResponseExample],
    ["dispatch_message one-undelivered response (§5.2)", dispatchMessageDataSchema, examples.dispatchOneUndeliveredResponseExample],
  ] as const)("parses the %s with both envelopes and its data schema", (_name, dataSchema, value) => {
    expect(issuePaths(esbEnvelopeSchema(dataSchema), value)).toEqual([]);
    expect(issuePaths(gatewayEnvelopeSchema(dataSchema), value)).toEqual([]);
  });

  it.each([
    ["business error (§2.2)", examples.businessErrorEnvelopeExample],
    ["no agent found (§4.1)", examples.listAgentStateNoneFoundExample],
  ])("parses the %s envelope with data null", (_name, value) => {
    expect(issuePaths(anyEsbEnvelopeSchema, value)).toEqual([]);
  });

  it("parses the get_proc_status_v2 body once agent_id_list has an id (the doc leaves it as [...])", () => {
    const body = { ...examples.getProcStatusV2RequestExample, agent_id_list: ["0:10.0.0.1"] };
    expect(issuePaths(getProcStatusRequestSchema, body)).toEqual([]);
  });
});

describe("requests tolerate extra keys but not wrong types", () => {
  it("strips bk_username, bk_app_code and bk_app_secret from the top level", () => {
    const parsed = listAgentStateRequestSchema.parse({
      agent_id_list: ["0:10.0.0.1"],
      bk_username: "admin",
      bk_app_code: "bk_monitorv3",
      bk_app_secret: "x",
    });
    expect(parsed).toEqual({ agent_id_list: ["0:10.0.0.1"] });
  });

  it("keeps unknown keys inside stored config objects so query answers echo them", () => {
    const route = { name: "r", stream_to: { stream_to_id: 1, kafka: { topic_name: "t", custom: 1 } }, extra: true };
    expect(routeEntrySchema.parse(route)).toEqual(route);
  });

  it.each([
    [
      "stream_to_id as a string",
      updateStreamToRequestSchema,
      {
        condition: { stream_to_id: "501", plat_name: "bkmonitor" },
        operation: { operator_name: "admin" },
        specification: { stream_to: examples.addStreamToRequestExample.stream_to },
      },
      "condition.stream_to_id",
    ],
    ["missing plat_name", addStreamToRequestSchema, { ...examples.addStreamToRequestExample, metadata: {} }, "metadata.plat_name"],
    ["missing operation", addRouteRequestSchema, { metadata: { plat_name: "bkmonitor" } }, "operation"],
    [
      "port as a string",
      addStreamToRequestSchema,
      {
        ...examples.addStreamToRequestExample,
        stream_to: { ...examples.addStreamToRequestExample.stream_to, kafka: { storage_address: [{ ip: "k", port: "9092" }] } },
      },
      "stream_to.kafka.storage_address.0.port",
    ],
    ["unknown report_mode", streamToSchema, { name: "x", report_mode: "mqtt" }, "report_mode"],
    ["kafka mode without kafka object", streamToSchema, { name: "x", report_mode: "kafka" }, "kafka"],
    ["file mode without data_log_path", streamToSchema, { name: "x", report_mode: "file" }, "data_log_path"],
    [
      "route without stream_to_id",
      addRouteRequestSchema,
      { ...examples.addRouteAllocateRequestExample, route: [{ name: "r", stream_to: { kafka: { topic_name: "t" } } }] },
      "route.0.stream_to.stream_to_id",
    ],
    [
      "duplicate route names",
      addRouteRequestSchema,
      {
        ...examples.addRouteAllocateRequestExample,
        route: [
          { name: "r", stream_to: { stream_to_id: 1 } },
          { name: "r", stream_to: { stream_to_id: 2 } },
        ],
      },
      "route.1.name",
    ],
    [
      "channel_id above 2097151",
      addRouteRequestSchema,
      { metadata: { plat_name: "bkmonitor", channel_id: 2097152 }, operation: { operator_name: "admin" } },
      "metadata.channel_id",
    ],
    ["channel_id 0", queryRouteRequestSchema, { condition: { channel_id: 0 }, operation: { operator_name: "admin" } }, "condition.channel_id"],
    [
      "empty update specification",
      updateRouteRequestSchema,
      { condition: { channel_id: 1500123, plat_name: "bkmonitor" }, operation: { operator_name: "admin" }, specification: {} },
      "specification",
    ],
    [
      "method specification without specification",
      deleteRouteRequestSchema,
      { condition: { channel_id: 1500123, plat_name: "bkmonitor" }, operation: { operator_name: "admin", method: "specification" } },
      "specification",
    ],
    [
      "unknown delete method",
      deleteRouteRequestSchema,
      { condition: { channel_id: 1500123, plat_name: "bkmonitor" }, operation: { operator_name: "admin", method: "some" } },
      "operation.method",
    ],
    ["empty agent_id_list", listAgentStateRequestSchema, { agent_id_list: [] }, "agent_id_list"],
    ["agent id as a number", listAgentStateRequestSchema, { agent_id_list: [1] }, "agent_id_list.0"],
    ["message_id longer than 64", dispatchMessageRequestSchema, { ...examples.dispatchMessageRequestExample, message_id: "m".repeat(65) }, "message_id"],
    ["content as an object", dispatchMessageRequestSchema, { ...examples.dispatchMessageRequestExample, content: { code: 0 } }, "content"],
    ["slot_id as a string", dispatchMessageRequestSchema, { ...examples.dispatchMessageRequestExample, slot_id: "37" }, "slot_id"],
    ["empty agent_message_list", dispatchMultiMessageRequestSchema, { slot_id: 37, token: "t", message_id: "m", agent_message_list: [] }, "agent_message_list"],
    ["bk_cloud_id as a string", getAgentStatusRequestSchema, { hosts: [{ ip: "10.0.0.1", bk_cloud_id: "0" }] }, "hosts.0.bk_cloud_id"],
    ["bk_supplier_account as a boolean", getAgentStatusRequestSchema, { bk_supplier_account: false, hosts: [] }, "bk_supplier_account"],
    [
      "stream filter with a bad field_data_type",
      streamFilterSchema,
      { name: "f", field_index: 1, field_data_type: "float", field_data_value: "1" },
      "field_data_type",
    ],
    ["proc status without agent_id_list or hosts", getProcStatusRequestSchema, { meta: { namespace: "nodeman", name: "p" } }, "agent_id_list"],
    ["query_streamto without plat_name", queryStreamToRequestSchema, { condition: {}, operation: { operator_name: "admin" } }, "condition.plat_name"],
  ] as const)("rejects %s at the right path", (_name, schema, value, path) => {
    expect(issuePaths(schema, value)).toContain(path);
  });
});

describe("uncertain shapes are accepted both ways", () => {
  it('accepts bk_supplier_account as the string "0" and as the integer 0', () => {
    expect(issuePaths(getAgentStatusRequestSchema, examples.getAgentStatusRequestExample)).toEqual([]);
    expect(issuePaths(getAgentStatusRequestSchema, { ...examples.getAgentStatusRequestExample, bk_supplier_account: 0 })).toEqual([]);
  });

  it("accepts a pulsar route topic as name or topic_name, and rejects neither", () => {
    expect(issuePaths(pulsarRouteSchema, { name: "persistent://t/n/topic" })).toEqual([]);
    expect(issuePaths(pulsarRouteSchema, { topic_name: "persistent://t/n/topic" })).toEqual([]);
    expect(issuePaths(pulsarRouteSchema, { tenant: "t" })).toEqual(["topic_name"]);
  });

  it("accepts query_streamto items nested, flat, and nested with flat copies", () => {
    const [nested] = examples.queryStreamToNestedDataExample;
    const both = { ...nested, stream_to_id: 501, name: "mq_stream_to_3", report_mode: "kafka", kafka: nested?.stream_to.kafka };
    expect(issuePaths(queryStreamToDataSchema, [nested, ...examples.queryStreamToFlatDataExample, both])).toEqual([]);
  });

  it("accepts get_proc_status with hosts (ESB) as well as agent_id_list (gateway)", () => {
    const meta = { namespace: "nodeman", name: "bkmonitorbeat" };
    expect(issuePaths(getProcStatusRequestSchema, { meta, hosts: [{ ip: "10.0.0.1", bk_cloud_id: 0 }] })).toEqual([]);
    expect(issuePaths(getProcStatusRequestSchema, { meta, agent_id_list: ["0:10.0.0.1"] })).toEqual([]);
  });

  it("accepts a gateway envelope without result, and a numeric-string code as a number", () => {
    const parsed = gatewayEnvelopeSchema(addRouteDataSchema).parse({ code: "0", message: "", data: { channel_id: 1 } });
    expect(parsed.code).toBe(0);
    expect(parsed.result).toBeUndefined();
  });

  it("accepts query_route channels whose route list is missing or null", () => {
    expect(issuePaths(queryRouteDataSchema, [{ metadata: { channel_id: 1 }, route: null }])).toEqual([]);
  });
});

describe("operation catalogue", () => {
  it("lists the fifteen operations of docs/gse-contract.md §1 with name equal to key", () => {
    expect(OPERATION_LIST).toHaveLength(15);
    for (const [key, op] of Object.entries(OPERATIONS)) expect(op.name).toBe(key);
  });

  it("marks query_*, list_* and get_* as reads and everything else as writes", () => {
    for (const op of OPERATION_LIST) {
      expect(op.kind).toBe(/^(query|list|get)_/.test(op.name) ? "read" : "write");
    }
  });

  it("gives every gateway path four variants and every ESB path two", () => {
    expect(pathVariants(OPERATIONS.add_streamto)).toEqual([
      "/api/v2/data/add_streamto",
      "/api/v2/data/add_streamto/",
      `${GATEWAY_PREFIX}/api/v2/data/add_streamto`,
      `${GATEWAY_PREFIX}/api/v2/data/add_streamto/`,
      "/api/c/compapi/v2/gse/config_add_streamto/",
      "/api/c/compapi/v2/gse/config_add_streamto",
    ]);
    expect(pathVariants(OPERATIONS.get_agent_status)).toEqual(["/api/c/compapi/v2/gse/get_agent_status/", "/api/c/compapi/v2/gse/get_agent_status"]);
  });

  it("resolves every path variant back to its operation and door, and unknown paths to undefined", () => {
    for (const op of OPERATION_LIST) {
      for (const path of pathVariants(op)) {
        const match = findOperationByPath(`${path}?x=1`);
        expect(match?.operation.name).toBe(op.name);
        expect(match?.door).toBe(path.includes("/compapi/") ? "esb" : "gateway");
      }
    }
    expect(findOperationByPath("/api/v2/data/get_proc_status")).toBeUndefined();
    expect(findOperationByPath("/api/bk-gse/prod/api/c/compapi/v2/gse/get_agent_status/")).toBeUndefined();
  });

  it("has no path shared by two operations", () => {
    const all = OPERATION_LIST.flatMap((op) => pathVariants(op));
    expect(new Set(all).size).toBe(all.length);
  });
});

describe("agent ids and host addresses are GSE's formats before anything is sent", () => {
  it.each(["0:10.0.0.1", "12:192.168.1.254", "0:fe80::1", "3:2001:db8::8a2e:370:7334", "02000000005254003dd2ea1700473962076n", "02agent-one", "a".repeat(128)])(
    "accepts %s",
    (id) => {
      expect(isGseAgentId(id)).toBe(true);
      expect(listAgentStateRequestSchema.safeParse({ agent_id_list: [id] }).success).toBe(true);
    },
  );

  it.each([
    ["an IPv4 with an octet over 255", "0:10.0.0.256"],
    ["a cloud id without an address", "0:"],
    ["a hostname for an address", "0:db-1.example.com"],
    ["a 2.0 id over 128 characters", "a".repeat(129)],
    ["a space", "02agent one"],
    ["a trailing space", "0:10.0.0.1 "],
    ["a NUL", "02agent\u0000"],
    ["a slash", "02agent/one"],
    ["non-ASCII letters", "02агент"],
  ])("refuses %s, naming the item", (_label, id) => {
    const parsed = listAgentStateRequestSchema.safeParse({ agent_id_list: ["0:10.0.0.1", id] });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => i.path.join("."))).toContain("agent_id_list.1");
  });

  it("refuses a legacy host whose ip is not an address", () => {
    const parsed = getAgentStatusRequestSchema.safeParse({ bk_supplier_account: "0", hosts: [{ ip: "not-an-ip", bk_cloud_id: 0 }] });
    expect(parsed.error?.issues.map((i) => i.path.join("."))).toContain("hosts.0.ip");
  });
});
