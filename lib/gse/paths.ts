/**
 * The GSE operations' names, paths and retry safety: the part of the catalogue (lib/gse/operations.ts,
 * which adds each one's schemas) that the HTTP route table needs. Apart from the schemas so that
 * every function's request handler, which looks its route's scope up in that table, does not
 * bundle every GSE schema.
 */
/** Prefix of the GSE v2 API gateway stage; clients may call paths with or without it. */
export const GATEWAY_PREFIX = "/api/bk-gse/prod";

/** Legacy ESB component API base for GSE. */
export const ESB_PREFIX = "/api/c/compapi/v2/gse/";

export type OperationKind = "read" | "write";
export type Door = "gateway" | "esb";

/** An operation's paths and retry safety; lib/gse/operations.ts adds its schemas. */
export interface OperationPathDefinition {
  /** Our canonical snake-case name; equals the key in {@link OPERATION_PATHS}. */
  readonly name: string;
  /** Path on the v2 API gateway, without {@link GATEWAY_PREFIX} and without trailing slash. */
  readonly gatewayPath: `/api/v2/${string}` | null;
  /** Path on the legacy ESB, with the trailing slash ESB clients send. */
  readonly esbPath: `${typeof ESB_PREFIX}${string}/` | null;
  /** Reads are safe to retry (query_*, list_*, get_*); writes are not. */
  readonly kind: OperationKind;
}

export const OPERATION_PATHS = {
  add_streamto: {
    name: "add_streamto",
    gatewayPath: "/api/v2/data/add_streamto",
    esbPath: "/api/c/compapi/v2/gse/config_add_streamto/",
    kind: "write",
  },
  update_streamto: {
    name: "update_streamto",
    gatewayPath: "/api/v2/data/update_streamto",
    esbPath: "/api/c/compapi/v2/gse/config_update_streamto/",
    kind: "write",
  },
  delete_streamto: {
    name: "delete_streamto",
    gatewayPath: "/api/v2/data/delete_streamto",
    esbPath: "/api/c/compapi/v2/gse/config_delete_streamto/",
    kind: "write",
  },
  query_streamto: {
    name: "query_streamto",
    gatewayPath: "/api/v2/data/query_streamto",
    esbPath: "/api/c/compapi/v2/gse/config_query_streamto/",
    kind: "read",
  },
  add_route: {
    name: "add_route",
    gatewayPath: "/api/v2/data/add_route",
    esbPath: "/api/c/compapi/v2/gse/config_add_route/",
    kind: "write",
  },
  update_route: {
    name: "update_route",
    gatewayPath: "/api/v2/data/update_route",
    esbPath: "/api/c/compapi/v2/gse/config_update_route/",
    kind: "write",
  },
  delete_route: {
    name: "delete_route",
    gatewayPath: "/api/v2/data/delete_route",
    esbPath: "/api/c/compapi/v2/gse/config_delete_route/",
    kind: "write",
  },
  query_route: {
    name: "query_route",
    gatewayPath: "/api/v2/data/query_route",
    esbPath: "/api/c/compapi/v2/gse/config_query_route/",
    kind: "read",
  },
  list_agent_state: {
    name: "list_agent_state",
    gatewayPath: "/api/v2/cluster/list_agent_state",
    esbPath: null,
    kind: "read",
  },
  list_agent_info: {
    name: "list_agent_info",
    gatewayPath: "/api/v2/cluster/list_agent_info",
    esbPath: null,
    kind: "read",
  },
  dispatch_message: {
    name: "dispatch_message",
    gatewayPath: "/api/v2/cluster/dispatch_message",
    esbPath: null,
    kind: "write",
  },
  dispatch_multi_message: {
    name: "dispatch_multi_message",
    gatewayPath: "/api/v2/cluster/dispatch_multi_message",
    esbPath: null,
    kind: "write",
  },
  get_agent_status: {
    name: "get_agent_status",
    gatewayPath: null,
    esbPath: "/api/c/compapi/v2/gse/get_agent_status/",
    kind: "read",
  },
  get_agent_info: {
    name: "get_agent_info",
    gatewayPath: null,
    esbPath: "/api/c/compapi/v2/gse/get_agent_info/",
    kind: "read",
  },
  get_proc_status: {
    name: "get_proc_status",
    // bk-nodeman's path; bk-monitor's `/api/v2/get_proc_status` and the datalink client's
    // `/api/v2/data/get_proc_status` are used by nobody / unconfirmed (§1), so they are left out.
    gatewayPath: "/api/v2/proc/get_proc_status_v2",
    esbPath: "/api/c/compapi/v2/gse/get_proc_status/",
    kind: "read",
  },
} as const satisfies Readonly<Record<string, OperationPathDefinition>>;

/** `path` without its trailing slashes; the root stays "/". */
export const withoutTrailingSlash = (path: string): string => (path.length > 1 ? path.replace(/\/+$/, "") : path);

export interface PathVariant {
  readonly path: string;
  readonly door: Door;
}

/** Every (path, door) a client may use for `op`. */
export function pathVariantsWithDoor(op: Pick<OperationPathDefinition, "gatewayPath" | "esbPath">): readonly PathVariant[] {
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
export function pathVariants(op: Pick<OperationPathDefinition, "gatewayPath" | "esbPath">): readonly string[] {
  return pathVariantsWithDoor(op).map((variant) => variant.path);
}
