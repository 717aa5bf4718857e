/**
 * Business error codes the simulator answers where docs/gse-contract.md does not know GSE's real code.
 * They are our choice (§8, §10.7, §10.9, §10.13); clients must not depend on the exact values.
 */

/** A request body that fails its schema, is not JSON, or is not `application/json`. */
export const SIM_VALIDATION_ERROR_CODE = 1000001;

/** `dispatch_message` / `dispatch_multi_message` with a wrong `slot_id` or `token`. */
export const SIM_SLOT_AUTH_ERROR_CODE = 1000002;

/** `add_route` with a `channel_id` that already exists. */
export const SIM_ALREADY_EXISTS_CODE = 1000003;

/** `add_route` when no channel id is left to allocate. */
export const SIM_ALLOCATION_EXHAUSTED_CODE = 1000004;

/** Per-agent codes inside `dispatch_message.data.results` (only undelivered agents are listed). */
export const SIM_DISPATCH_AGENT_NOT_CONNECTED_CODE = 1;
export const SIM_DISPATCH_AGENT_NOT_FOUND_CODE = 2;

/** Request body limit of the API gateway (§2.3: 413 above 40M). */
export const SIM_BODY_LIMIT_BYTES = 40 * 1024 * 1024;
