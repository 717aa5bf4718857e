/**
 * The GSE operation catalogue (docs/gse-contract.md §1): the single source of truth for names, paths, retry
 * safety and schemas. The HTTP route table, the GSE client and the simulator are derived from it.
 */
import type { z } from "zod";
import {
  addRouteDataSchema,
  addRouteRequestSchema,
  addStreamToDataSchema,
  addStreamToRequestSchema,
  deleteRouteDataSchema,
  deleteRouteRequestSchema,
  deleteStreamToDataSchema,
  deleteStreamToRequestSchema,
  dispatchMessageDataSchema,
  dispatchMessageRequestSchema,
  dispatchMultiMessageDataSchema,
  dispatchMultiMessageRequestSchema,
  getAgentInfoDataSchema,
  getAgentInfoRequestSchema,
  getAgentStatusDataSchema,
  getAgentStatusRequestSchema,
  getProcStatusDataSchema,
  getProcStatusRequestSchema,
  listAgentInfoDataSchema,
  listAgentInfoRequestSchema,
  listAgentStateDataSchema,
  listAgentStateRequestSchema,
  queryRouteDataSchema,
  queryRouteRequestSchema,
  queryStreamToDataSchema,
  queryStreamToRequestSchema,
  updateRouteDataSchema,
  updateRouteRequestSchema,
  updateStreamToDataSchema,
  updateStreamToRequestSchema,
} from "./schemas.ts";

/** Prefix of the GSE v2 API gateway stage; clients may call paths with or without it. */
export const GATEWAY_PREFIX = "/api/bk-gse/prod";

/** Legacy ESB component API base for GSE. */
export const ESB_PREFIX = "/api/c/compapi/v2/gse/";

export type OperationKind = "read" | "write";
export type Door = "gateway" | "esb";

export interface OperationDefinition {
  /** Our canonical snake-case name; equals the key in {@link OPERATIONS}. */
  readonly name: string;
  /** Path on the v2 API gateway, without {@link GATEWAY_PREFIX} and without trailing slash. */
  readonly gatewayPath: `/api/v2/${string}` | null;
  /** Path on the legacy ESB, with the trailing slash ESB clients send. */
  readonly esbPath: `${typeof ESB_PREFIX}${string}/` | null;
  /** Reads are safe to retry (query_*, list_*, get_*); writes are not. */
  readonly kind: OperationKind;
  readonly request: z.ZodType;
  readonly responseData: z.ZodType;
}

export const OPERATIONS = {
  add_streamto: {
    name: "add_streamto",
    gatewayPath: "/api/v2/data/add_streamto",
    esbPath: "/api/c/compapi/v2/gse/config_add_streamto/",
    kind: "write",
    request: addStreamToRequestSchema,
    responseData: addStreamToDataSchema,
  },
  update_streamto: {
    name: "update_streamto",
    gatewayPath: "/api/v2/data/update_streamto",
    esbPath: "/api/c/compapi/v2/gse/config_update_streamto/",
    kind: "write",
    request: updateStreamToRequestSchema,
    responseData: updateStreamToDataSchema,
  },
  delete_streamto: {
    name: "delete_streamto",
    gatewayPath: "/api/v2/data/delete_streamto",
    esbPath: "/api/c/compapi/v2/gse/config_delete_streamto/",
    kind: "write",
    request: deleteStreamToRequestSchema,
    responseData: deleteStreamToDataSchema,
  },
  query_streamto: {
    name: "query_streamto",
    gatewayPath: "/api/v2/data/query_streamto",
    esbPath: "/api/c/compapi/v2/gse/config_query_streamto/",
    kind: "read",
    request: queryStreamToRequestSchema,
    responseData: queryStreamToDataSchema,
  },
  add_route: {
    name: "add_route",
    gatewayPath: "/api/v2/data/add_route",
    esbPath: "/api/c/compapi/v2/gse/config_add_route/",
    kind: "write",
    request: addRouteRequestSchema,
    responseData: addRouteDataSchema,
  },
  update_route: {
    name: "update_route",
    gatewayPath: "/api/v2/data/update_route",
    esbPath: "/api/c/compapi/v2/gse/config_update_route/",
    kind: "write",
    request: updateRouteRequestSchema,
    responseData: updateRouteDataSchema,
  },
  delete_route: {
    name: "delete_route",
    gatewayPath: "/api/v2/data/delete_route",
    esbPath: "/api/c/compapi/v2/gse/config_delete_route/",
    kind: "write",
    request: deleteRouteRequestSchema,
    responseData: deleteRouteDataSchema,
  },
  query_route: {
    name: "query_route",
    gatewayPath: "/api/v2/data/query_route",
    esbPath: "/api/c/compapi/v2/gse/config_query_route/",
    kind: "read",
    request: queryRouteRequestSchema,
    responseData: queryRouteDataSchema,
  },
  list_agent_state: {
    name: "list_agent_state",
    gatewayPath: "/api/v2/cluster/list_agent_state",
    esbPath: null,
    kind: "read",
    request: listAgentStateRequestSchema,
    responseData: listAgentStateDataSchema,
  },
  list_agent_info: {
    name: "list_agent_info",
    gatewayPath: "/api/v2/cluster/list_agent_info",
    esbPath: null,
    kind: "read",
    request: listAgentInfoRequestSchema,
    responseData: listAgentInfoDataSchema,
  },
  dispatch_message: {
    name: "dispatch_message",
    gatewayPath: "/api/v2/cluster/dispatch_message",
    esbPath: null,
    kind: "write",
    request: dispatchMessageRequestSchema,
    responseData: dispatchMessageDataSchema,
  },
  dispatch_multi_message: {
    name: "dispatch_multi_message",
    gatewayPath: "/api/v2/cluster/dispatch_multi_message",
    esbPath: null,
    kind: "write",
    request: dispatchMultiMessageRequestSchema,
    responseData: dispatchMultiMessageDataSchema,
  },
  get_agent_status: {
    name: "get_agent_status",
    gatewayPath: null,
    esbPath: "/api/c/compapi/v2/gse/get_agent_status/",
    kind: "read",
    request: getAgentStatusRequestSchema,
    responseData: getAgentStatusDataSchema,
  },
  get_agent_info: {
    name: "get_agent_info",
    gatewayPath: null,
    esbPath: "/api/c/compapi/v2/gse/get_agent_info/",
    kind: "read",
    request: getAgentInfoRequestSchema,
    responseData: getAgentInfoDataSchema,
  },
  get_proc_status: {
    name: "get_proc_status",
    // bk-nodeman's path; bk-monitor's `/api/v2/get_proc_status` and the datalink client's
    // `/api/v2/data/get_proc_status` are used by nobody / unconfirmed (§1), so they are left out.
    gatewayPath: "/api/v2/proc/get_proc_status_v2",
    esbPath: "/api/c/compapi/v2/gse/get_proc_status/",
    kind: "read",
    request: getProcStatusRequestSchema,
    responseData: getProcStatusDataSchema,
  },
} as const satisfies Readonly<Record<string, OperationDefinition>>;

type Catalogue = typeof OPERATIONS;
export type OperationName = keyof Catalogue;
export type Operation = Catalogue[OperationName];
export type OperationRequest<N extends OperationName> = z.output<Catalogue[N]["request"]>;
export type OperationRequestInput<N extends OperationName> = z.input<Catalogue[N]["request"]>;
export type OperationResponseData<N extends OperationName> = z.output<Catalogue[N]["responseData"]>;
export type GatewayOperationName = { [N in OperationName]: Catalogue[N]["gatewayPath"] extends null ? never : N }[OperationName];
export type EsbOperationName = { [N in OperationName]: Catalogue[N]["esbPath"] extends null ? never : N }[OperationName];

// Compile-time check: every entry's `name` equals its key.
type NameMismatches = { [K in OperationName]: Catalogue[K]["name"] extends K ? never : K }[OperationName];
const namesMatchKeys: [NameMismatches] extends [never] ? true : NameMismatches = true;
void namesMatchKeys;

export const OPERATION_LIST: readonly Operation[] = Object.values(OPERATIONS);
export const OPERATION_NAMES: readonly OperationName[] = OPERATION_LIST.map((op) => op.name);

export function isOperationName(value: string): value is OperationName {
  return Object.hasOwn(OPERATIONS, value);
}

function withoutTrailingSlash(path: string): string {
  return path.endsWith("/") ? path.slice(0, -1) : path;
}

export interface PathVariant {
  readonly path: string;
  readonly door: Door;
}

/** Every (path, door) a client may use for `op`. */
export function pathVariantsWithDoor(op: Operation): readonly PathVariant[] {
  const variants: PathVariant[] = [];
  if (op.gatewayPath !== null) {
    const bare = op.gatewayPath;
    for (const path of [bare, `${bare}/`, `${GATEWAY_PREFIX}${bare}`, `${GATEWAY_PREFIX}${bare}/`]) {
      variants.push({ path, door: "gateway" });
    }
  }
  if (op.esbPath !== null) {
    variants.push({ path: op.esbPath, door: "esb" }, { path: withoutTrailingSlash(op.esbPath), door: "esb" });
  }
  return variants;
}

/** Every path a client may use for `op`: gateway with/without slash and prefix, ESB with/without slash. */
export function pathVariants(op: Operation): readonly string[] {
  return pathVariantsWithDoor(op).map((variant) => variant.path);
}

export interface OperationMatch {
  readonly operation: Operation;
  readonly door: Door;
}

const operationsByPath: ReadonlyMap<string, OperationMatch> = new Map(
  OPERATION_LIST.flatMap((operation) => pathVariantsWithDoor(operation).map((variant) => [variant.path, { operation, door: variant.door }] as const)),
);

/** Resolves a request path (query string ignored) to its operation and front door. */
export function findOperationByPath(path: string): OperationMatch | undefined {
  const queryStart = path.indexOf("?");
  return operationsByPath.get(queryStart === -1 ? path : path.slice(0, queryStart));
}
