/**
 * The GSE operation catalogue (docs/gse-contract.md §1): the single source of truth for each operation's
 * schemas, with its names, paths and retry safety from lib/gse/paths.ts. The GSE client and the
 * simulator are derived from it; the HTTP route table from paths.ts alone.
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
import { OPERATION_PATHS, pathVariantsWithDoor, type Door, type OperationPathDefinition } from "./paths.ts";

export { ESB_PREFIX, GATEWAY_PREFIX, pathVariants, pathVariantsWithDoor, type Door, type OperationKind, type PathVariant } from "./paths.ts";

export interface OperationDefinition extends OperationPathDefinition {
  readonly request: z.ZodType;
  readonly responseData: z.ZodType;
}

export const OPERATIONS = {
  add_streamto: {
    ...OPERATION_PATHS.add_streamto,
    request: addStreamToRequestSchema,
    responseData: addStreamToDataSchema,
  },
  update_streamto: {
    ...OPERATION_PATHS.update_streamto,
    request: updateStreamToRequestSchema,
    responseData: updateStreamToDataSchema,
  },
  delete_streamto: {
    ...OPERATION_PATHS.delete_streamto,
    request: deleteStreamToRequestSchema,
    responseData: deleteStreamToDataSchema,
  },
  query_streamto: {
    ...OPERATION_PATHS.query_streamto,
    request: queryStreamToRequestSchema,
    responseData: queryStreamToDataSchema,
  },
  add_route: {
    ...OPERATION_PATHS.add_route,
    request: addRouteRequestSchema,
    responseData: addRouteDataSchema,
  },
  update_route: {
    ...OPERATION_PATHS.update_route,
    request: updateRouteRequestSchema,
    responseData: updateRouteDataSchema,
  },
  delete_route: {
    ...OPERATION_PATHS.delete_route,
    request: deleteRouteRequestSchema,
    responseData: deleteRouteDataSchema,
  },
  query_route: {
    ...OPERATION_PATHS.query_route,
    request: queryRouteRequestSchema,
    responseData: queryRouteDataSchema,
  },
  list_agent_state: {
    ...OPERATION_PATHS.list_agent_state,
    request: listAgentStateRequestSchema,
    responseData: listAgentStateDataSchema,
  },
  list_agent_info: {
    ...OPERATION_PATHS.list_agent_info,
    request: listAgentInfoRequestSchema,
    responseData: listAgentInfoDataSchema,
  },
  dispatch_message: {
    ...OPERATION_PATHS.dispatch_message,
    request: dispatchMessageRequestSchema,
    responseData: dispatchMessageDataSchema,
  },
  dispatch_multi_message: {
    ...OPERATION_PATHS.dispatch_multi_message,
    request: dispatchMultiMessageRequestSchema,
    responseData: dispatchMultiMessageDataSchema,
  },
  get_agent_status: {
    ...OPERATION_PATHS.get_agent_status,
    request: getAgentStatusRequestSchema,
    responseData: getAgentStatusDataSchema,
  },
  get_agent_info: {
    ...OPERATION_PATHS.get_agent_info,
    request: getAgentInfoRequestSchema,
    responseData: getAgentInfoDataSchema,
  },
  get_proc_status: {
    ...OPERATION_PATHS.get_proc_status,
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
