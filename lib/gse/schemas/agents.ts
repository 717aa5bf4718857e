/** Agents: ids, state, info, the legacy host-based queries and process status. */
import * as z from "zod";
import { MAX_AGENTS_PER_REQUEST } from "./common.ts";

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
  .refine(
    isGseAgentId,
    "is neither a `cloud:ip` id (a cloud id and an IPv4 or IPv6 address) nor a GSE 2.0 agent id (1 to 128 letters, digits, '.', '_' or '-')",
  );

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

export const getAgentStatusDataSchema = z.record(z.string(), z.looseObject({ ip: z.string(), bk_cloud_id: z.int(), bk_agent_alive: z.int() }));
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
