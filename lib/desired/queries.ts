/**
 * The desired-state routes' query parameters. Apart from lib/desired/api.ts so that the OpenAPI
 * function, which documents them, does not bundle the YAML parser and the stores along.
 */
import * as z from "zod";
import { decimalInt } from "../http/params.ts";

/** GET /v1/applies: newest first. */
export const applyListQuerySchema = z.object({
  limit: decimalInt({ min: 1, max: 100, fallback: 20 }),
  cursor: z.string().max(2048).optional(),
});
