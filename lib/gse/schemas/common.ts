/**
 * Zod schemas for GSE's request bodies and response `data`, one file per kind of object:
 * common.ts (codes, limits, shared pieces), stream-to.ts, route.ts, agents.ts, dispatch.ts and
 * envelope.ts (the answer's wrapper). lib/gse/schemas.ts re-exports them all.
 *
 * Conventions:
 * - Request objects are non-strict: unknown top-level keys that real clients add (`bk_username`,
 *   `bk_app_code`, `bk_app_secret`) are stripped, never rejected. Wrong types are always rejected.
 * - Configuration objects that GSE stores and echoes back (stream_to, mode objects, routes, filters,
 *   labels, addresses) are loose: GSE's query answers must compare equal to what was sent, so keys we
 *   do not model must survive a parse instead of being dropped.
 * - Where the contract is uncertain, both shapes are accepted; each such place says why.
 */
import * as z from "zod";

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
export function requireUniqueNames(items: readonly { name: string }[], ctx: z.RefinementCtx): void {
  const seen = new Set<string>();
  items.forEach((item, index) => {
    if (seen.has(item.name)) {
      ctx.addIssue({ code: "custom", message: `duplicate name "${item.name}"`, path: [index, "name"] });
    }
    seen.add(item.name);
  });
}

/** `data` of answers no client reads (update/delete); GSE's value is not documented. */
export const unusedDataSchema = z.unknown();
export type UnusedData = z.infer<typeof unusedDataSchema>;
