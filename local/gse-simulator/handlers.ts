/**
 * What GSE does for each operation, on the simulator's in-memory state. A handler never mutates
 * state itself: it returns the answer plus a `commit` that applies the write, so the server can
 * answer without applying (faults) or apply and then fail (unknown write outcomes).
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { z } from "zod";
import { OPERATIONS, type OperationName } from "../../lib/gse/operations.ts";
import { isRecord, parseJson } from "./http.ts";
import {
  CHANNEL_ID_MAX,
  GSE_AGENT_NONE_FOUND_CODE,
  GSE_NOT_FOUND_CODE,
  type AddRouteRequest,
  type AddStreamToRequest,
  type AgentInfo,
  type AgentState,
  type DeleteRouteRequest,
  type DeleteStreamToRequest,
  type DispatchMessageRequest,
  type DispatchMultiMessageRequest,
  type DispatchResult,
  type GetAgentInfoData,
  type GetAgentInfoRequest,
  type GetAgentStatusData,
  type GetAgentStatusRequest,
  type GetProcStatusRequest,
  type Label,
  type ListAgentInfoRequest,
  type ListAgentStateRequest,
  type ProcInfo,
  type QueryRouteChannel,
  type QueryRouteRequest,
  type QueryStreamToRequest,
  type RouteEntry,
  type SlotCallback,
  type StreamFilter,
  type StreamTo,
  type UpdateRouteRequest,
  type UpdateStreamToRequest,
} from "../../lib/gse/schemas.ts";
import { RUNNING_STATUS, statusText, type AgentFleet, type AgentRef } from "./agents.ts";
import {
  SIM_ALLOCATION_EXHAUSTED_CODE,
  SIM_ALREADY_EXISTS_CODE,
  SIM_DISPATCH_AGENT_NOT_CONNECTED_CODE,
  SIM_DISPATCH_AGENT_NOT_FOUND_CODE,
  SIM_SLOT_AUTH_ERROR_CODE,
  SIM_VALIDATION_ERROR_CODE,
} from "./codes.ts";

export const FIRST_STREAM_TO_ID = 501;
export const FIRST_ALLOCATED_CHANNEL_ID = 1500000;

export type Outcome =
  | { readonly ok: true; readonly data: unknown; readonly commit?: () => void }
  | { readonly ok: false; readonly code: number; readonly message: string; readonly data?: unknown };

interface StoredStreamTo {
  readonly id: number;
  readonly platName: string;
  readonly label: Label | undefined;
  operation: { operator_name: string };
  streamTo: StreamTo;
}

interface StoredChannel {
  readonly channelId: number;
  readonly platName: string;
  readonly label: Label | undefined;
  readonly version: string;
  routes: RouteEntry[];
  filters: StreamFilter[];
}

/** stream_to and route configuration as GSE's data service would hold it. */
export class ConfigState {
  readonly streamTos = new Map<number, StoredStreamTo>();
  readonly channels = new Map<number, StoredChannel>();
  nextStreamToId = FIRST_STREAM_TO_ID;
  nextChannelId = FIRST_ALLOCATED_CHANNEL_ID;

  /** Plain JSON, for a simulator that keeps its configuration across restarts as GSE does. */
  toJSON(): SavedConfig {
    return {
      streamTos: [...this.streamTos.values()],
      channels: [...this.channels.values()],
      nextStreamToId: this.nextStreamToId,
      nextChannelId: this.nextChannelId,
    };
  }

  static fromJSON(saved: SavedConfig): ConfigState {
    const state = new ConfigState();
    for (const streamTo of saved.streamTos) state.streamTos.set(streamTo.id, streamTo);
    for (const channel of saved.channels) state.channels.set(channel.channelId, channel);
    state.nextStreamToId = saved.nextStreamToId;
    state.nextChannelId = saved.nextChannelId;
    return state;
  }
}

export interface SavedConfig {
  readonly streamTos: StoredStreamTo[];
  readonly channels: StoredChannel[];
  readonly nextStreamToId: number;
  readonly nextChannelId: number;
}

export interface SlotConfig {
  readonly slot_id: number;
  readonly token: string;
}

export interface HandlerContext {
  readonly config: ConfigState;
  readonly fleet: AgentFleet;
  readonly now: () => number;
  /** Clock value when the fleet was created (for agent start times). */
  readonly fleetCreatedAt: number;
  readonly slot: SlotConfig;
  /** Queues plugin replies for delivered messages (called from `commit`). */
  readonly scheduleReplies: (replies: readonly SlotCallback[]) => void;
}

// ---------------------------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------------------------

function fail(code: number, message: string): Outcome {
  return { ok: false, code, message };
}

function notFound(what: string): Outcome {
  return fail(GSE_NOT_FOUND_CODE, `${what} not found`);
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out === "" ? String(key) : `.${String(key)}`;
  }
  return out === "" ? "(body)" : out;
}

export function validationFailure(message: string): Outcome {
  return fail(SIM_VALIDATION_ERROR_CODE, message);
}

/** Every issue as `path: message`, so the failing field is named. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${formatPath(issue.path)}: ${issue.message}`).join("; ");
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}

/** Constant-time string comparison (equal-length digests). */
export function secretEquals(provided: string, expected: string): boolean {
  return timingSafeEqual(digest(provided), digest(expected));
}

function uniqueIds(ids: readonly string[]): string[] {
  return [...new Set(ids)];
}

function upsertByName<T extends { name: string }>(current: readonly T[], updates: readonly T[]): T[] {
  const next = [...current];
  for (const update of updates) {
    const position = next.findIndex((item) => item.name === update.name);
    if (position === -1) next.push(clone(update));
    else next[position] = clone(update);
  }
  return next;
}

function ownedStreamTo(ctx: HandlerContext, id: number, platName: string): StoredStreamTo | undefined {
  const stored = ctx.config.streamTos.get(id);
  // stream_tos live per platform: another platform's id is "not found" for mutations (§10.8).
  return stored !== undefined && stored.platName === platName ? stored : undefined;
}

function ownedChannel(ctx: HandlerContext, channelId: number, platName: string): StoredChannel | undefined {
  const stored = ctx.config.channels.get(channelId);
  return stored !== undefined && stored.platName === platName ? stored : undefined;
}

// ---------------------------------------------------------------------------------------------
// stream_to
// ---------------------------------------------------------------------------------------------

function addStreamTo(req: AddStreamToRequest, ctx: HandlerContext): Outcome {
  const id = ctx.config.nextStreamToId;
  return {
    ok: true,
    data: { stream_to_id: id, name: req.stream_to.name },
    commit: () => {
      ctx.config.streamTos.set(id, {
        id,
        platName: req.metadata.plat_name,
        label: clone(req.metadata.label),
        operation: clone(req.operation),
        streamTo: clone(req.stream_to),
      });
      ctx.config.nextStreamToId = id + 1;
    },
  };
}

function updateStreamTo(req: UpdateStreamToRequest, ctx: HandlerContext): Outcome {
  const stored = ownedStreamTo(ctx, req.condition.stream_to_id, req.condition.plat_name);
  if (stored === undefined) return notFound(`stream_to_id(${req.condition.stream_to_id})`);
  return {
    ok: true,
    data: null,
    commit: () => {
      stored.streamTo = clone(req.specification.stream_to);
      stored.operation = clone(req.operation);
    },
  };
}

function deleteStreamTo(req: DeleteStreamToRequest, ctx: HandlerContext): Outcome {
  const stored = ownedStreamTo(ctx, req.condition.stream_to_id, req.condition.plat_name);
  if (stored === undefined) return notFound(`stream_to_id(${req.condition.stream_to_id})`);
  return { ok: true, data: null, commit: () => void ctx.config.streamTos.delete(stored.id) };
}

/** Nested item (bk-cmdb, bk-log) plus flat copies at the top (bk-monitor's Kafka tail), §6.5. */
function streamToItem(stored: StoredStreamTo): Record<string, unknown> {
  const streamTo = clone(stored.streamTo);
  const item: Record<string, unknown> = {
    metadata: {
      plat_name: stored.platName,
      stream_to_id: stored.id,
      ...(stored.label === undefined ? {} : { label: clone(stored.label) }),
    },
    operation: clone(stored.operation),
    stream_to: streamTo,
    stream_to_id: stored.id,
    name: streamTo.name,
    report_mode: streamTo.report_mode,
  };
  const modeKey = streamTo.report_mode === "file" ? "data_log_path" : streamTo.report_mode;
  if (streamTo[modeKey] !== undefined) item[modeKey] = clone(streamTo[modeKey]);
  return item;
}

function queryStreamTo(req: QueryStreamToRequest, ctx: HandlerContext): Outcome {
  const { plat_name: platName, stream_to_id: id } = req.condition;
  if (id !== undefined) {
    const stored = ownedStreamTo(ctx, id, platName);
    return stored === undefined ? notFound(`stream_to_id(${id})`) : { ok: true, data: [streamToItem(stored)] };
  }
  const items = [...ctx.config.streamTos.values()].filter((s) => s.platName === platName).map(streamToItem);
  return { ok: true, data: items };
}

// ---------------------------------------------------------------------------------------------
// routes
// ---------------------------------------------------------------------------------------------

function allocateChannelId(config: ConfigState): number | undefined {
  for (let id = config.nextChannelId; id <= CHANNEL_ID_MAX; id++) {
    if (!config.channels.has(id)) return id;
  }
  return undefined;
}

function addRoute(req: AddRouteRequest, ctx: HandlerContext): Outcome {
  const explicit = req.metadata.channel_id;
  let channelId: number;
  if (explicit !== undefined) {
    if (ctx.config.channels.has(explicit)) return fail(SIM_ALREADY_EXISTS_CODE, `channel_id(${explicit}) already exists`);
    channelId = explicit;
  } else {
    const allocated = allocateChannelId(ctx.config);
    if (allocated === undefined) return fail(SIM_ALLOCATION_EXHAUSTED_CODE, "no channel_id left to allocate");
    channelId = allocated;
  }
  return {
    ok: true,
    data: { channel_id: channelId },
    commit: () => {
      ctx.config.channels.set(channelId, {
        channelId,
        platName: req.metadata.plat_name,
        label: clone(req.metadata.label),
        version: "1",
        routes: clone(req.route ?? []),
        filters: clone(req.stream_filters ?? []),
      });
      if (explicit === undefined) ctx.config.nextChannelId = channelId + 1;
    },
  };
}

function updateRoute(req: UpdateRouteRequest, ctx: HandlerContext): Outcome {
  const stored = ownedChannel(ctx, req.condition.channel_id, req.condition.plat_name);
  if (stored === undefined) return notFound(`channel_id(${req.condition.channel_id})`);
  const { route, stream_filters: filters } = req.specification;
  return {
    ok: true,
    data: null,
    commit: () => {
      // Upsert by name, never delete (§7.3).
      if (route !== undefined) stored.routes = upsertByName(stored.routes, route);
      if (filters !== undefined) stored.filters = upsertByName(stored.filters, filters);
    },
  };
}

function deleteRoute(req: DeleteRouteRequest, ctx: HandlerContext): Outcome {
  const stored = ownedChannel(ctx, req.condition.channel_id, req.condition.plat_name);
  if (stored === undefined) return notFound(`channel_id(${req.condition.channel_id})`);
  if (req.operation.method === "all") {
    return { ok: true, data: null, commit: () => void ctx.config.channels.delete(stored.channelId) };
  }
  const routeNames = new Set(req.specification?.route ?? []);
  const filterNames = new Set(req.specification?.stream_filters ?? []);
  return {
    ok: true,
    data: null,
    commit: () => {
      // A channel left without routes is kept (uncertain in §7.4; callers accept either).
      stored.routes = stored.routes.filter((r) => !routeNames.has(r.name));
      stored.filters = stored.filters.filter((f) => !filterNames.has(f.name));
    },
  };
}

function queryRoute(req: QueryRouteRequest, ctx: HandlerContext): Outcome {
  // Not filtered by plat_name: routes of other platforms come back too (§7.5).
  const stored = ctx.config.channels.get(req.condition.channel_id);
  if (stored === undefined) return notFound(`channel_id(${req.condition.channel_id})`);
  const channel: QueryRouteChannel = {
    metadata: {
      version: stored.version,
      channel_id: stored.channelId,
      plat_name: stored.platName,
      ...(stored.label === undefined ? {} : { label: clone(stored.label) }),
    },
    route: clone(stored.routes),
    stream_filters: clone(stored.filters),
  };
  return { ok: true, data: [channel] };
}

// ---------------------------------------------------------------------------------------------
// agents
// ---------------------------------------------------------------------------------------------

function knownAgents(ids: readonly string[], fleet: AgentFleet): { id: string; ref: AgentRef }[] {
  const out: { id: string; ref: AgentRef }[] = [];
  for (const id of uniqueIds(ids)) {
    const ref = fleet.resolve(id);
    if (ref !== undefined) out.push({ id, ref });
  }
  return out;
}

function listAgentState(req: ListAgentStateRequest, ctx: HandlerContext): Outcome {
  const items = knownAgents(req.agent_id_list, ctx.fleet).map(({ id, ref }): AgentState => {
    const view = ctx.fleet.view(ref);
    return {
      bk_agent_id: id,
      bk_cloud_id: view.bk_cloud_id,
      version: view.version,
      run_mode: view.run_mode,
      status_code: view.status_code,
    };
  });
  return items.length === 0 ? fail(GSE_AGENT_NONE_FOUND_CODE, "no agent found") : { ok: true, data: items };
}

function listAgentInfo(req: ListAgentInfoRequest, ctx: HandlerContext): Outcome {
  const reportTime = ctx.now();
  const items = knownAgents(req.agent_id_list, ctx.fleet).map(({ id, ref }): AgentInfo => {
    const view = ctx.fleet.view(ref);
    return {
      code: 0,
      message: "",
      bk_agent_id: id,
      bk_cloud_id: view.bk_cloud_id,
      bk_host_ip: view.ip,
      bk_os_type: "linux",
      report_time: reportTime,
      parent_ip: "",
      parent_port: 0,
      version: view.version,
      cpu_rate: view.cpu_rate,
      mem_rate: view.mem_rate,
      start_time: Math.floor(ctx.fleetCreatedAt / 1000) - view.uptime_s,
      run_mode: view.run_mode,
      status_code: view.status_code,
      status: statusText(view.status_code),
      last_status_code: view.last_status_code,
      last_status: statusText(view.last_status_code),
      remark: "",
    };
  });
  return items.length === 0 ? fail(GSE_AGENT_NONE_FOUND_CODE, "no agent found") : { ok: true, data: items };
}

function getAgentStatus(req: GetAgentStatusRequest, ctx: HandlerContext): Outcome {
  const data: GetAgentStatusData = {};
  for (const host of req.hosts) {
    const ref = ctx.fleet.resolveHost(host.bk_cloud_id, host.ip);
    // v1 answers every host asked for; unknown hosts are simply not alive.
    const alive = ref !== undefined && ctx.fleet.status(ref) === RUNNING_STATUS;
    data[`${host.bk_cloud_id}:${host.ip}`] = { ip: host.ip, bk_cloud_id: host.bk_cloud_id, bk_agent_alive: alive ? 1 : 0 };
  }
  return { ok: true, data };
}

function getAgentInfo(req: GetAgentInfoRequest, ctx: HandlerContext): Outcome {
  const data: GetAgentInfoData = {};
  for (const host of req.hosts) {
    const ref = ctx.fleet.resolveHost(host.bk_cloud_id, host.ip);
    if (ref === undefined) continue;
    const view = ctx.fleet.view(ref);
    data[`${host.bk_cloud_id}:${host.ip}`] = {
      ip: host.ip,
      version: view.version,
      bk_cloud_id: host.bk_cloud_id,
      parent_ip: "",
      parent_port: 0,
    };
  }
  return { ok: true, data };
}

/** 0 unregistered, 1 running, 2 stopped — derived from the agent's own state. */
function procStatusOf(statusCode: number): number {
  if (statusCode === RUNNING_STATUS) return 1;
  return statusCode === 0 || statusCode === 7 ? 0 : 2;
}

function getProcStatus(req: GetProcStatusRequest, ctx: HandlerContext): Outcome {
  const ids = req.agent_id_list ?? (req.hosts ?? []).map((host) => `${host.bk_cloud_id}:${host.ip}`);
  const procInfos = knownAgents(ids, ctx.fleet).map(({ id, ref }): ProcInfo => {
    const view = ctx.fleet.view(ref);
    return {
      bk_agent_id: id,
      host: { ip: view.ip, bk_cloud_id: view.bk_cloud_id },
      status: procStatusOf(view.status_code),
      version: view.version,
      isauto: true,
      meta: clone(req.meta),
    };
  });
  return { ok: true, data: { proc_infos: procInfos } };
}

// ---------------------------------------------------------------------------------------------
// messages
// ---------------------------------------------------------------------------------------------

function slotMatches(req: { slot_id: number; token: string }, slot: SlotConfig): boolean {
  const tokenOk = secretEquals(req.token, slot.token);
  return tokenOk && req.slot_id === slot.slot_id;
}

function replyContent(messageId: string, agentId: string): string {
  return JSON.stringify({ ack: true, message_id: messageId, bk_agent_id: agentId });
}

function deliver(messageId: string, agentIds: readonly string[], ctx: HandlerContext): { results: DispatchResult[]; replies: SlotCallback[] } {
  const results: DispatchResult[] = [];
  const replies: SlotCallback[] = [];
  for (const id of uniqueIds(agentIds)) {
    const ref = ctx.fleet.resolve(id);
    if (ref === undefined) {
      results.push({ bk_agent_id: id, code: SIM_DISPATCH_AGENT_NOT_FOUND_CODE, message: "agent not found" });
    } else if (ctx.fleet.status(ref) !== RUNNING_STATUS) {
      results.push({ bk_agent_id: id, code: SIM_DISPATCH_AGENT_NOT_CONNECTED_CODE, message: "agent not connected" });
    } else {
      replies.push({ message_id: messageId, bk_agent_id: id, content: replyContent(messageId, id) });
    }
  }
  return { results, replies };
}

/** The version a message's content upgrades its agents to: JSON `{"action":"upgrade","version":"X", ...}`. */
function upgradeVersionOf(content: string): string | undefined {
  const parsed = parseJson(content);
  if (!parsed.ok || !isRecord(parsed.value)) return undefined;
  const { action, version } = parsed.value;
  return action === "upgrade" && typeof version === "string" && version !== "" ? version : undefined;
}

function dispatchMessage(req: DispatchMessageRequest, ctx: HandlerContext): Outcome {
  if (!slotMatches(req, ctx.slot)) return fail(SIM_SLOT_AUTH_ERROR_CODE, "invalid slot_id or token");
  const { results, replies } = deliver(req.message_id, req.agent_id_list, ctx);
  const upgradeTo = upgradeVersionOf(req.content);
  return {
    ok: true,
    data: { results },
    commit: () => {
      // The delivered agents run the upgrade (those marked keep-version fail it quietly), then ack.
      if (upgradeTo !== undefined) {
        for (const reply of replies) {
          const ref = ctx.fleet.resolve(reply.bk_agent_id);
          if (ref) ctx.fleet.upgrade(ref, upgradeTo);
        }
      }
      ctx.scheduleReplies(replies);
    },
  };
}

function dispatchMultiMessage(req: DispatchMultiMessageRequest, ctx: HandlerContext): Outcome {
  if (!slotMatches(req, ctx.slot)) return fail(SIM_SLOT_AUTH_ERROR_CODE, "invalid slot_id or token");
  const ids = req.agent_message_list.map((entry) => entry.bk_agent_id);
  const { results, replies } = deliver(req.message_id, ids, ctx);
  return { ok: true, data: { results }, commit: () => ctx.scheduleReplies(replies) };
}

// ---------------------------------------------------------------------------------------------
// table
// ---------------------------------------------------------------------------------------------

export type BoundHandler = (body: unknown, ctx: HandlerContext) => Outcome;

/** Validates the body with the operation's schema, then runs the handler on the parsed value. */
function validated<S extends z.ZodType>(schema: S, handler: (req: z.output<S>, ctx: HandlerContext) => Outcome): BoundHandler {
  return (body, ctx) => {
    const parsed = schema.safeParse(body);
    if (!parsed.success) return validationFailure(`invalid request: ${describeIssues(parsed.error)}`);
    return handler(parsed.data, ctx);
  };
}

export const HANDLERS = {
  add_streamto: validated(OPERATIONS.add_streamto.request, addStreamTo),
  update_streamto: validated(OPERATIONS.update_streamto.request, updateStreamTo),
  delete_streamto: validated(OPERATIONS.delete_streamto.request, deleteStreamTo),
  query_streamto: validated(OPERATIONS.query_streamto.request, queryStreamTo),
  add_route: validated(OPERATIONS.add_route.request, addRoute),
  update_route: validated(OPERATIONS.update_route.request, updateRoute),
  delete_route: validated(OPERATIONS.delete_route.request, deleteRoute),
  query_route: validated(OPERATIONS.query_route.request, queryRoute),
  list_agent_state: validated(OPERATIONS.list_agent_state.request, listAgentState),
  list_agent_info: validated(OPERATIONS.list_agent_info.request, listAgentInfo),
  dispatch_message: validated(OPERATIONS.dispatch_message.request, dispatchMessage),
  dispatch_multi_message: validated(OPERATIONS.dispatch_multi_message.request, dispatchMultiMessage),
  get_agent_status: validated(OPERATIONS.get_agent_status.request, getAgentStatus),
  get_agent_info: validated(OPERATIONS.get_agent_info.request, getAgentInfo),
  get_proc_status: validated(OPERATIONS.get_proc_status.request, getProcStatus),
} as const satisfies { readonly [N in OperationName]: BoundHandler };
