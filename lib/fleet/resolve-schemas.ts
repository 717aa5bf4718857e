/**
 * POST /v1/fleet/resolve's request and answer shapes. Apart from lib/fleet/schemas.ts, which every
 * fleet route imports: a target query's version is checked as a semver range, and the other fleet
 * routes would carry semver's ranges for a check they never make.
 */
import * as z from "zod";
import { targetQuerySchema } from "../targets/schemas.ts";

/** POST /v1/fleet/resolve: a target query to preview (docs/rollouts.md §2). */
export const resolveBodySchema = z.strictObject({ query: targetQuerySchema });
/** Ids shown at most by a preview; `count` is all of them. */
export const RESOLVE_PREVIEW_IDS = 1000;
export const resolveDataSchema = z.object({ count: z.int(), agent_ids: z.array(z.string()), truncated: z.boolean() });
