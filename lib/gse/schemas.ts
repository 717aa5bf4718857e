/**
 * Zod schemas for every GSE request body and every response `data`, after docs/gse-contract.md.
 *
 * Conventions:
 * - Request objects are non-strict: unknown top-level keys that real clients add (`bk_username`,
 *   `bk_app_code`, `bk_app_secret`) are stripped, never rejected. Wrong types are always rejected.
 * - Configuration objects that GSE stores and echoes back (stream_to, mode objects, routes, filters,
 *   labels, addresses) are loose: GSE's query answers must compare equal to what was sent, so keys we
 *   do not model must survive a parse instead of being dropped.
 * - Where the contract is uncertain, both shapes are accepted; each such place says why.
 */
import { z } from "zod";

// ---------------------------------------------------------------------------------------------
// Codes (docs/gse-contract.md §2.3 and §8)
// ---------------------------------------------------------------------------------------------

export const GSE_SUCCESS_CODE = 0;

/** `list_agent_state` / `list_agent_info`: none of the requested agents is known. */
export const GSE_AGENT_NONE_FOUND_CODE = 1011003;

/** Not-found codes seen for channels and stream_tos; which one GSE uses where is unknown. */
export const GSE_NOT_FOUND_CODE = 1014505;
export const GSE_NOT_FOUND_CODE_ALT = 1014003;
export const GSE_NOT_FOUND_CODE_LEGACY = 14001;
export const GSE_NOT_FOUND_CODES = [GSE_NOT_FOUND_CODE, GSE_NOT_FOUND_CODE_ALT, GSE_NOT_FOUND_CODE_LEGACY] as const;

/** ESB GSE config component default when the backend sends no `bk_error_code`. */
export const ESB_UNKNOWN_ERROR_CODE = 1306000;

/** bk-monitor's generic permission-denied codes (IAM); they arrive as strings. */
export const PERMISSION_DENIED_CODES = ["9900403", "35999999"] as const;

/** API gateway error codes (§2.3), produced by the BlueKing API gateway, not by GSE. */
export const GATEWAY_ERROR = {
  INVALID_ARGS: { status: 400, code: 1640001, codeName: "INVALID_ARGS" },
  APP_NO_PERMISSION: { status: 403, code: 1640301, codeName: "APP_NO_PERMISSION" },
  IP_NOT_ALLOWED: { status: 403, code: 1640302, codeName: "IP_NOT_ALLOWED" },
  API_NOT_FOUND: { status: 404, code: 1640401, codeName: "API_NOT_FOUND" },
  BODY_SIZE_LIMIT_EXCEED: { status: 413, code: 1641301, codeName: "BODY_SIZE_LIMIT_EXCEED" },
  URI_SIZE_LIMIT_EXCEED: { status: 414, code: 1641401, codeName: "URI_SIZE_LIMIT_EXCEED" },
  RATE_LIMIT_STAGE_GLOBAL: { status: 429, code: 1642901, codeName: "RATE_LIMIT_RESTRICTION" },
  RATE_LIMIT_STAGE: { status: 429, code: 1642902, codeName: "RATE_LIMIT_RESTRICTION" },
  RATE_LIMIT_RESOURCE: { status: 429, code: 1642903, codeName: "RATE_LIMIT_RESTRICTION" },
  CONCURRENCY_LIMIT: { status: 429, code: 1642904, codeName: "CONCURRENCY_LIMIT_RESTRICTION" },
  BAD_GATEWAY: { status: 502, code: 1650200, codeName: "BAD_GATEWAY" },
  ERROR_REQUESTING_RESOURCE: { status: 502, code: 1650201, codeName: "ERROR_REQUESTING_RESOURCE" },
  REQUEST_BACKEND_TIMEOUT: { status: 504, code: 1650401, codeName: "REQUEST_BACKEND_TIMEOUT" },
  RECURSIVE_REQUEST_DETECTED: { status: 508, code: 1650801, codeName: "RECURSIVE_REQUEST_DETECTED" },
} as const;
export type GatewayErrorName = keyof typeof GATEWAY_ERROR;

/** Valid channel ids (GSE rejects ids outside this range, §10b.5). */
export const CHANNEL_ID_MIN = 1;
export const CHANNEL_ID_MAX = 2097151;

/**
 * The most ids or hosts one request may carry: bk-job's batch size, the largest any real client
 * sends (§3.3). A longer list is refused up front with the field named, not half-processed.
 */
export const MAX_AGENTS_PER_REQUEST = 5000;

/** Routes or stream filters in one request: far above any real channel, low enough to stay cheap. */
export const MAX_ROUTES_PER_REQUEST = 1000;

/** bk-monitor's limit for `dispatch_message.message_id`. */
export const MESSAGE_ID_MAX_LENGTH = 64;

// ---------------------------------------------------------------------------------------------
// Shared pieces
// ---------------------------------------------------------------------------------------------

const intSchema = z.int();

export const labelSchema = z.looseObject({
  bk_biz_id: intSchema.optional(),
  bk_biz_name: z.string().optional(),
  odm: z.string().optional(),
});
export type Label = z.infer<typeof labelSchema>;

export const operationSchema = z.object({ operator_name: z.string() });
export type Operation = z.infer<typeof operationSchema>;

export const channelIdSchema = z.int().min(CHANNEL_ID_MIN).max(CHANNEL_ID_MAX);

export const reportModeSchema = z.enum(["kafka", "redis", "pulsar", "file"]);
export type ReportMode = z.infer<typeof reportModeSchema>;

export const storageAddressSchema = z.looseObject({
  ip: z.string().min(1),
  port: z.int().min(1).max(65535),
});
export type StorageAddress = z.infer<typeof storageAddressSchema>;

/** Adds an issue for every name that occurs twice (names are the key of routes and filters). */
function requireUniqueNames(items: readonly { name: string }[], ctx: z.RefinementCtx): void {
  const seen = new Set<string>();
  items.forEach((item, index) => {
    if (seen.has(item.name)) {
      ctx.addIssue({ code: "custom", message: `duplicate name "${item.name}"`, path: [index, "name"] });
    }
    seen.add(item.name);
  });
}

// ---------------------------------------------------------------------------------------------
// stream_to (§6)
// ---------------------------------------------------------------------------------------------

export const kafkaStreamToSchema = z.looseObject({
  storage_address: z.array(storageAddressSchema),
  sasl_username: z.string().optional(),
  sasl_passwd: z.string().optional(),
  sasl_mechanisms: z.string().optional(),
  security_protocol: z.string().optional(),
});

export const redisStreamToSchema = z.looseObject({
  storage_address: z.array(storageAddressSchema),
  passwd: z.string().optional(),
  master_name: z.string().optional(),
  sentinel_passwd: z.string().optional(),
  mode: z.string().optional(),
});

export const pulsarStreamToSchema = z.looseObject({
  storage_address: z.array(storageAddressSchema),
  token: z.string().optional(),
});

export const streamToSchema = z
  .looseObject({
    name: z.string().min(1),
    report_mode: reportModeSchema,
    data_log_path: z.string().optional(),
    kafka: kafkaStreamToSchema.optional(),
    redis: redisStreamToSchema.optional(),
    pulsar: pulsarStreamToSchema.optional(),
  })
  .superRefine((value, ctx) => {
    const required = value.report_mode === "file" ? "data_log_path" : value.report_mode;
    if (value[required] === undefined) {
      ctx.addIssue({
        code: "custom",
        message: `${required} is required when report_mode is "${value.report_mode}"`,
        path: [required],
      });
    }
  });
export type StreamTo = z.infer<typeof streamToSchema>;

export const streamToMetadataSchema = z.object({
  plat_name: z.string().min(1),
  label: labelSchema.optional(),
});

export const streamToConditionSchema = z.object({
  stream_to_id: z.int(),
  plat_name: z.string().min(1),
});

export const addStreamToRequestSchema = z.object({
  metadata: streamToMetadataSchema,
  operation: operationSchema,
  stream_to: streamToSchema,
});
export type AddStreamToRequest = z.infer<typeof addStreamToRequestSchema>;

export const addStreamToDataSchema = z.looseObject({
  stream_to_id: z.int(),
  // bk-monitor reads only stream_to_id; the doc lists name too, so it is optional here.
  name: z.string().optional(),
});
export type AddStreamToData = z.infer<typeof addStreamToDataSchema>;

export const updateStreamToRequestSchema = z.object({
  condition: streamToConditionSchema,
  operation: operationSchema,
  specification: z.object({ stream_to: streamToSchema }),
});
export type UpdateStreamToRequest = z.infer<typeof updateStreamToRequestSchema>;

/** `data` of answers no client reads (update/delete); GSE's value is not documented. */
export const unusedDataSchema = z.unknown();
export type UnusedData = z.infer<typeof unusedDataSchema>;

export const updateStreamToDataSchema = unusedDataSchema;

export const deleteStreamToRequestSchema = z.object({
  condition: streamToConditionSchema,
  operation: operationSchema,
});
export type DeleteStreamToRequest = z.infer<typeof deleteStreamToRequestSchema>;

export const deleteStreamToDataSchema = unusedDataSchema;

export const queryStreamToRequestSchema = z.object({
  condition: z.object({
    plat_name: z.string().min(1),
    stream_to_id: z.int().optional(),
    label: labelSchema.optional(),
  }),
  operation: operationSchema,
});
export type QueryStreamToRequest = z.infer<typeof queryStreamToRequestSchema>;

export const queryStreamToNestedItemSchema = z.looseObject({
  metadata: z.looseObject({
    plat_name: z.string().optional(),
    stream_to_id: z.int(),
    label: labelSchema.optional(),
  }),
  operation: operationSchema.optional(),
  stream_to: streamToSchema,
});

export const queryStreamToFlatItemSchema = z.looseObject({
  stream_to_id: z.int(),
  name: z.string(),
  report_mode: reportModeSchema,
  data_log_path: z.string().optional(),
  kafka: kafkaStreamToSchema.optional(),
  redis: redisStreamToSchema.optional(),
  pulsar: pulsarStreamToSchema.optional(),
});

// Sources disagree on the item shape (§6.5, §10.1): bk-cmdb/bk-log read nested items, bk-monitor's
// Kafka tail reads flat ones. Nested is tried first; an item carrying both parses as nested.
export const queryStreamToItemSchema = z.union([queryStreamToNestedItemSchema, queryStreamToFlatItemSchema]);
export type QueryStreamToItem = z.infer<typeof queryStreamToItemSchema>;

export const queryStreamToDataSchema = z.array(queryStreamToItemSchema);
export type QueryStreamToData = z.infer<typeof queryStreamToDataSchema>;

// ---------------------------------------------------------------------------------------------
// Routes (§7)
// ---------------------------------------------------------------------------------------------

export const kafkaRouteSchema = z.looseObject({
  topic_name: z.string().min(1),
  data_set: z.string().optional(),
  biz_id: z.int().optional(),
  partition: z.int().optional(),
});

export const redisRouteSchema = z.looseObject({
  channel_name: z.string().min(1),
  data_set: z.string().optional(),
  biz_id: z.int().optional(),
});

// bk-cmdb sends the topic as `name`, GSE's parser requires `topic_name` (§7.1, §10b.2): accept either,
// but one of them must be there.
export const pulsarRouteSchema = z
  .looseObject({
    name: z.string().min(1).optional(),
    topic_name: z.string().min(1).optional(),
    tenant: z.string().optional(),
    namespace: z.string().optional(),
    data_set: z.string().optional(),
    biz_id: z.int().optional(),
    partition: z.int().optional(),
  })
  .superRefine((value, ctx) => {
    if (value.name === undefined && value.topic_name === undefined) {
      ctx.addIssue({ code: "custom", message: "pulsar route needs name or topic_name", path: ["topic_name"] });
    }
  });

export const routeStreamToSchema = z.looseObject({
  stream_to_id: z.int(),
  kafka: kafkaRouteSchema.optional(),
  redis: redisRouteSchema.optional(),
  pulsar: pulsarRouteSchema.optional(),
});

export const routeEntrySchema = z.looseObject({
  name: z.string().min(1),
  stream_to: routeStreamToSchema,
  filter_name_and: z.array(z.string()).optional(),
  filter_name_or: z.array(z.string()).optional(),
});
export type RouteEntry = z.infer<typeof routeEntrySchema>;

export const streamFilterSchema = z.looseObject({
  name: z.string().min(1),
  field_index: z.int(),
  field_data_type: z.enum(["int", "string", "bytes"]),
  field_data_value: z.string(),
  field_separator: z.string().optional(),
  field_in: z.enum(["protocol", "data"]).optional(),
});
export type StreamFilter = z.infer<typeof streamFilterSchema>;

const routeListSchema = z.array(routeEntrySchema).max(MAX_ROUTES_PER_REQUEST).superRefine(requireUniqueNames);
const streamFilterListSchema = z.array(streamFilterSchema).max(MAX_ROUTES_PER_REQUEST).superRefine(requireUniqueNames);

export const routeMetadataSchema = z.object({
  plat_name: z.string().min(1),
  channel_id: channelIdSchema.optional(),
  label: labelSchema.optional(),
});

export const routeConditionSchema = z.object({
  channel_id: channelIdSchema,
  plat_name: z.string().min(1),
  label: labelSchema.optional(),
});

export const addRouteRequestSchema = z.object({
  metadata: routeMetadataSchema,
  operation: operationSchema,
  route: routeListSchema.optional(),
  stream_filters: streamFilterListSchema.optional(),
});
export type AddRouteRequest = z.infer<typeof addRouteRequestSchema>;

export const addRouteDataSchema = z.looseObject({
  channel_id: z.int(),
  proofing_id: z.int().optional(),
});
export type AddRouteData = z.infer<typeof addRouteDataSchema>;

export const updateRouteRequestSchema = z.object({
  condition: routeConditionSchema,
  operation: operationSchema,
  specification: z
    .object({
      route: routeListSchema.optional(),
      stream_filters: streamFilterListSchema.optional(),
    })
    .superRefine((value, ctx) => {
      if (value.route === undefined && value.stream_filters === undefined) {
        ctx.addIssue({ code: "custom", message: "specification needs route or stream_filters", path: [] });
      }
    }),
});
export type UpdateRouteRequest = z.infer<typeof updateRouteRequestSchema>;

export const updateRouteDataSchema = unusedDataSchema;

export const deleteRouteRequestSchema = z
  .object({
    condition: routeConditionSchema,
    operation: z.object({
      operator_name: z.string(),
      method: z.enum(["all", "specification"]),
    }),
    specification: z
      .object({
        route: z.array(z.string()).optional(),
        stream_filters: z.array(z.string()).optional(),
      })
      .optional(),
  })
  .superRefine((value, ctx) => {
    if (value.operation.method === "specification" && value.specification === undefined) {
      ctx.addIssue({
        code: "custom",
        message: 'specification is required when operation.method is "specification"',
        path: ["specification"],
      });
    }
  });
export type DeleteRouteRequest = z.infer<typeof deleteRouteRequestSchema>;

export const deleteRouteDataSchema = unusedDataSchema;

export const queryRouteRequestSchema = z.object({
  condition: z.object({
    channel_id: channelIdSchema,
    plat_name: z.string().optional(),
    label: labelSchema.optional(),
  }),
  operation: operationSchema,
});
export type QueryRouteRequest = z.infer<typeof queryRouteRequestSchema>;

export const queryRouteChannelSchema = z.looseObject({
  metadata: z.looseObject({
    version: z.string().optional(),
    channel_id: z.int(),
    plat_name: z.string().optional(),
    label: labelSchema.optional(),
  }),
  // A channel without routes or filters may come back with the list absent or null (§7.4, §10.10).
  route: z.array(routeEntrySchema).nullish(),
  stream_filters: z.array(streamFilterSchema).nullish(),
});
export type QueryRouteChannel = z.infer<typeof queryRouteChannelSchema>;

export const queryRouteDataSchema = z.array(queryRouteChannelSchema);
export type QueryRouteData = z.infer<typeof queryRouteDataSchema>;

// ---------------------------------------------------------------------------------------------
// Agents (§3, §4)
// ---------------------------------------------------------------------------------------------

const ipAddressSchema = z.union([z.ipv4(), z.ipv6()]);

/** GSE 2.0 ids are opaque (§3.1) but plain and short, e.g. `02000000005254003dd2ea1700473962076n`. */
const GSE2_AGENT_ID = /^[0-9A-Za-z][0-9A-Za-z._-]{0,127}$/;

/**
 * An id GSE could know (§3.1): `{bk_cloud_id}:{ip}` with a real IPv4/IPv6 address, or a 2.0 id.
 * Anything else is refused before it reaches GSE or our tables.
 */
export function isGseAgentId(id: string): boolean {
  const legacy = /^(-?\d{1,10}):(.+)$/.exec(id);
  if (legacy?.[2] !== undefined) return ipAddressSchema.safeParse(legacy[2]).success;
  return GSE2_AGENT_ID.test(id);
}

export const agentIdSchema = z
  .string()
  .min(1)
  .refine(isGseAgentId, "is neither a `cloud:ip` id (a cloud id and an IPv4 or IPv6 address) nor a GSE 2.0 agent id (1 to 128 letters, digits, '.', '_' or '-')");

export const agentIdListSchema = z.array(agentIdSchema).min(1).max(MAX_AGENTS_PER_REQUEST);

export const agentIdListRequestSchema = z.object({
  agent_id_list: agentIdListSchema,
});

export const listAgentStateRequestSchema = agentIdListRequestSchema;
export type ListAgentStateRequest = z.infer<typeof listAgentStateRequestSchema>;

export const agentStateSchema = z.looseObject({
  bk_agent_id: z.string(),
  bk_cloud_id: z.int(),
  version: z.string(),
  run_mode: z.int(),
  status_code: z.int(),
});
export type AgentState = z.infer<typeof agentStateSchema>;

export const listAgentStateDataSchema = z.array(agentStateSchema);
export type ListAgentStateData = z.infer<typeof listAgentStateDataSchema>;

export const listAgentInfoRequestSchema = agentIdListRequestSchema;
export type ListAgentInfoRequest = z.infer<typeof listAgentInfoRequestSchema>;

// Fields come from bk-nodeman's mock only (§4.2), so everything but the id is optional.
export const agentInfoSchema = z.looseObject({
  bk_agent_id: z.string(),
  code: z.int().optional(),
  message: z.string().optional(),
  bk_cloud_id: z.int().optional(),
  bk_host_ip: z.string().optional(),
  bk_os_type: z.string().optional(),
  report_time: z.number().optional(),
  parent_ip: z.string().optional(),
  parent_port: z.int().optional(),
  version: z.string().optional(),
  cpu_rate: z.number().optional(),
  mem_rate: z.number().optional(),
  start_time: z.number().optional(),
  run_mode: z.int().optional(),
  status_code: z.int().optional(),
  status: z.string().optional(),
  last_status_code: z.int().optional(),
  last_status: z.string().optional(),
  remark: z.string().optional(),
});
export type AgentInfo = z.infer<typeof agentInfoSchema>;

export const listAgentInfoDataSchema = z.array(agentInfoSchema);
export type ListAgentInfoData = z.infer<typeof listAgentInfoDataSchema>;

export const hostSchema = z.object({
  ip: ipAddressSchema,
  bk_cloud_id: z.int(),
});
export type Host = z.infer<typeof hostSchema>;

export const legacyHostsRequestSchema = z.object({
  // The ESB doc types it as a string, bk-monitor sends the integer 0 (§4.3, §10b.4).
  bk_supplier_account: z.union([z.string(), z.int()]).optional(),
  hosts: z.array(hostSchema).max(MAX_AGENTS_PER_REQUEST),
});

export const getAgentStatusRequestSchema = legacyHostsRequestSchema;
export type GetAgentStatusRequest = z.infer<typeof getAgentStatusRequestSchema>;

export const getAgentStatusDataSchema = z.record(
  z.string(),
  z.looseObject({ ip: z.string(), bk_cloud_id: z.int(), bk_agent_alive: z.int() }),
);
export type GetAgentStatusData = z.infer<typeof getAgentStatusDataSchema>;

export const getAgentInfoRequestSchema = legacyHostsRequestSchema;
export type GetAgentInfoRequest = z.infer<typeof getAgentInfoRequestSchema>;

export const getAgentInfoDataSchema = z.record(
  z.string(),
  z.looseObject({
    ip: z.string(),
    version: z.string(),
    bk_cloud_id: z.int(),
    parent_ip: z.string(),
    parent_port: z.int(),
  }),
);
export type GetAgentInfoData = z.infer<typeof getAgentInfoDataSchema>;

export const procMetaSchema = z.looseObject({
  namespace: z.string(),
  name: z.string().min(1),
  labels: z.record(z.string(), z.string()).optional(),
});

// One operation, two doors with different bodies (§4.4): the gateway's get_proc_status_v2 takes
// agent_id_list, the ESB get_proc_status takes hosts (plus a top-level namespace from bk-monitor).
export const getProcStatusRequestSchema = z
  .object({
    meta: procMetaSchema,
    namespace: z.string().optional(),
    agent_id_list: z.array(agentIdSchema).min(1).optional(),
    hosts: z.array(hostSchema).min(1).optional(),
  })
  .superRefine((value, ctx) => {
    if (value.agent_id_list === undefined && value.hosts === undefined) {
      ctx.addIssue({ code: "custom", message: "agent_id_list or hosts is required", path: ["agent_id_list"] });
    }
  });
export type GetProcStatusRequest = z.infer<typeof getProcStatusRequestSchema>;

export const procInfoSchema = z.looseObject({
  bk_agent_id: z.string().optional(),
  host: hostSchema.loose(),
  status: z.int(),
  version: z.string(),
  isauto: z.boolean(),
  meta: procMetaSchema,
});
export type ProcInfo = z.infer<typeof procInfoSchema>;

export const getProcStatusDataSchema = z.looseObject({ proc_infos: z.array(procInfoSchema) });
export type GetProcStatusData = z.infer<typeof getProcStatusDataSchema>;

// ---------------------------------------------------------------------------------------------
// Messages (§5)
// ---------------------------------------------------------------------------------------------

export const messageIdSchema = z.string().min(1).max(MESSAGE_ID_MAX_LENGTH);

export const dispatchMessageRequestSchema = z.object({
  slot_id: z.int(),
  token: z.string().min(1),
  message_id: messageIdSchema,
  agent_id_list: agentIdListSchema,
  content: z.string(),
});
export type DispatchMessageRequest = z.infer<typeof dispatchMessageRequestSchema>;

export const dispatchResultSchema = z.looseObject({
  bk_agent_id: z.string(),
  code: z.int(),
  message: z.string(),
});
export type DispatchResult = z.infer<typeof dispatchResultSchema>;

/** Only agents the message could not be delivered to are listed; absent = delivered. */
export const dispatchMessageDataSchema = z.looseObject({ results: z.array(dispatchResultSchema) });
export type DispatchMessageData = z.infer<typeof dispatchMessageDataSchema>;

export const dispatchMultiMessageRequestSchema = z.object({
  slot_id: z.int(),
  token: z.string().min(1),
  message_id: messageIdSchema,
  agent_message_list: z.array(z.object({ bk_agent_id: agentIdSchema, content: z.string() })).min(1),
  front_content: z.string().optional(),
  back_content: z.string().optional(),
});
export type DispatchMultiMessageRequest = z.infer<typeof dispatchMultiMessageRequestSchema>;

export const dispatchMultiMessageDataSchema = dispatchMessageDataSchema;
export type DispatchMultiMessageData = DispatchMessageData;

/** Body GSE POSTs to the slot's callback URL (§5.4). */
export const slotCallbackSchema = z.object({
  message_id: z.string().min(1),
  bk_agent_id: agentIdSchema,
  content: z.string(),
});
export type SlotCallback = z.infer<typeof slotCallbackSchema>;

// ---------------------------------------------------------------------------------------------
// Envelopes (§2.2, §2.3)
// ---------------------------------------------------------------------------------------------

// bk-monitor compares codes against strings ("9900403"), so some answers carry the code as a
// numeric string; both parse to a number.
export const responseCodeSchema = z.union([z.int(), z.string().regex(/^-?\d+$/).transform(Number)]);

/** GSE v2 via the API gateway: `{code, message, data}`; `result` is usually there too (§10.2). */
export function gatewayEnvelopeSchema<T extends z.ZodType>(data: T) {
  return z.object({
    code: responseCodeSchema,
    message: z.string(),
    data,
    result: z.boolean().optional(),
    // bk-monitor falls back to the X-Bkapi-Request-Id header when the body has none.
    request_id: z.string().optional(),
  });
}

/** Legacy ESB: `{result, code, message, data, request_id}`. */
export function esbEnvelopeSchema<T extends z.ZodType>(data: T) {
  return z.object({
    result: z.boolean(),
    code: responseCodeSchema,
    message: z.string(),
    data,
    // Documented as always present, but clients fall back to the response header.
    request_id: z.string().optional(),
  });
}

export const anyGatewayEnvelopeSchema = gatewayEnvelopeSchema(z.unknown());
export type GatewayEnvelope = z.infer<typeof anyGatewayEnvelopeSchema>;

export const anyEsbEnvelopeSchema = esbEnvelopeSchema(z.unknown());
export type EsbEnvelope = z.infer<typeof anyEsbEnvelopeSchema>;

/** Error body of the BlueKing API gateway itself (not GSE). */
export const gatewayErrorBodySchema = z.object({
  code_name: z.string(),
  code: z.int(),
  message: z.string(),
  data: z.null(),
  result: z.literal(false),
});
export type GatewayErrorBody = z.infer<typeof gatewayErrorBodySchema>;
