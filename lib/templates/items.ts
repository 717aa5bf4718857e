/**
 * Where templates live in the commands table (lib/resources.ts TABLES.commands): they are what
 * commands are made from, and they never expire.
 *
 *   pk = template#<name>     sk = v#<6 digits>   one version, immutable once written
 *   pk = templates#index     sk = <name>         the latest pointer: the latest version and its body's hash (listing)
 *
 * A new version is one transaction: its item, written only if absent, and the pointer moved from
 * the version it was read at. Two writers that read the same pointer cannot both win, so two
 * concurrent PUTs get versions N and N+1, never both N.
 */
import * as z from "zod";
import { MAX_TEMPLATE_VERSION, templateNameSchema } from "./schemas.ts";

export const TEMPLATE_INDEX_PK = "templates#index";

export const templatePk = (name: string): string => `template#${name}`;
export const versionSk = (version: number): string => `v#${String(version).padStart(6, "0")}`;

export const versionItemSchema = z.object({
  pk: z.string(),
  sk: z.string(),
  name: templateNameSchema,
  version: z.int().min(1).max(MAX_TEMPLATE_VERSION),
  /** The body as PUT gave it (validated), apart from the keys and who/when. */
  body: z.record(z.string(), z.unknown()),
  body_hash: z.string(),
  created_at: z.number(),
  created_by: z.string(),
});
export type VersionItem = z.infer<typeof versionItemSchema>;

export const pointerItemSchema = z.object({
  pk: z.literal(TEMPLATE_INDEX_PK),
  sk: z.string(),
  name: templateNameSchema,
  latest_version: z.int().min(1).max(MAX_TEMPLATE_VERSION),
  body_hash: z.string(),
  description: z.string().optional(),
  updated_at: z.number(),
  updated_by: z.string(),
});
export type PointerItem = z.infer<typeof pointerItemSchema>;
