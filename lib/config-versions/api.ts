/**
 * Our own routes over configuration versions: history (paged), one version, a field-level diff,
 * roll back to a version, and drift. Everything answered here is masked (mask.ts).
 */
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import * as z from "zod";
import { decimalIdSchema, decimalInt, decimalVersionSchema } from "../http/params.ts";
import { NotFoundError } from "../core/errors.ts";
import { validate } from "../http/handler.ts";
import { headItemSchema, pendingAddItemSchema, versionItemSchema, type HeadItem, type PendingAddItem, type VersionItem } from "./items.ts";
import type { ConfigStore } from "./store.ts";
import { objectKey, objectKindSchema, type ObjectRef } from "./documents.ts";
import { diffDocuments, fieldChangeSchema, maskSecrets } from "./mask.ts";

export const objectPathSchema = z.object({ kind: objectKindSchema, id: decimalIdSchema });
export const versionPathSchema = objectPathSchema.extend({ version: decimalVersionSchema });
export const listQuerySchema = z.object({
  limit: decimalInt({ min: 1, max: 100, fallback: 20 }),
  /** `next_cursor` of the previous page. */
  cursor: decimalIdSchema.optional(),
});
export const diffQuerySchema = z.object({ from: decimalVersionSchema, to: decimalVersionSchema });
export const rollbackBodySchema = z.object({ version: z.int().nonnegative() });
export type RollbackBody = z.infer<typeof rollbackBodySchema>;

/** Path and query parameters, validated like a body: a bad one is a 400 naming `pathParameters.id`. */
export function parametersOf<P extends z.ZodType, Q extends z.ZodType>(
  event: APIGatewayProxyEventV2,
  path: P,
  query: Q,
): { path: z.infer<P>; query: z.infer<Q> } {
  const parsed = validate(z.object({ pathParameters: path, queryStringParameters: query }), {
    pathParameters: event.pathParameters ?? {},
    queryStringParameters: event.queryStringParameters ?? {},
  }) as { pathParameters: z.infer<P>; queryStringParameters: z.infer<Q> };
  return { path: parsed.pathParameters, query: parsed.queryStringParameters };
}

/** A version as the API answers it: the stored item without its keys, secrets masked. */
export const versionViewSchema = versionItemSchema.omit({ pk: true, sk: true });
export type VersionView = z.infer<typeof versionViewSchema>;

export function versionView(item: VersionItem): VersionView {
  const { pk: _pk, sk: _sk, ...rest } = item;
  return maskSecrets(rest);
}

export const headViewSchema = z.object({
  current_version: headItemSchema.shape.current_version,
  last_good_version: headItemSchema.shape.last_good_version,
  latest_version: headItemSchema.shape.latest_version,
  pending_version: headItemSchema.shape.pending_version.unwrap().nullable(),
  updated_at: headItemSchema.shape.updated_at,
});

const headView = (head: HeadItem): z.infer<typeof headViewSchema> => ({
  current_version: head.current_version,
  last_good_version: head.last_good_version,
  latest_version: head.latest_version,
  pending_version: head.pending_version ?? null,
  updated_at: head.updated_at,
});

/**
 * An add of this object's own id that did not become a version: GSE refused it (REJECTED: the id
 * was taken, nothing changed) or it failed and was undone. Kept beside the object for a week.
 */
export const addAttemptViewSchema = pendingAddItemSchema.pick({
  operation: true,
  request: true,
  document: true,
  author: true,
  created_at: true,
  status: true,
  error: true,
  rejected_at: true,
  failed_at: true,
  rolled_back_at: true,
  rollback_error: true,
  adopted_version: true,
});
export type AddAttemptView = z.infer<typeof addAttemptViewSchema>;

const addAttemptView = (item: PendingAddItem): AddAttemptView => maskSecrets(addAttemptViewSchema.parse(item));

/** Refused or failed adds shown with the first page of a history. */
const ADD_ATTEMPTS_SHOWN = 20;

/**
 * GET …/versions: newest first; `next_cursor` continues the list. `head` is null when the object
 * has no versions, only adds of its id that GSE refused (`add_attempts`).
 */
export const historyPageSchema = z.object({
  object: z.string(),
  head: headViewSchema.nullable(),
  versions: z.array(versionViewSchema),
  add_attempts: z.array(addAttemptViewSchema),
  next_cursor: z.int().nullable(),
});
/** GET …/diff?from=&to=. */
export const diffDataSchema = z.object({ object: z.string(), from: z.int(), to: z.int(), changes: z.array(fieldChangeSchema) });

async function requireVersion(store: ConfigStore, ref: ObjectRef, version: number): Promise<VersionItem> {
  const item = await store.getVersion(ref, version);
  if (!item) throw new NotFoundError(`${objectKey(ref)} has no version ${version}`);
  return item;
}

/** GET …/versions (newest first, paged), …/versions/{version}, …/diff?from=&to=. */
export async function answerHistory(store: ConfigStore, event: APIGatewayProxyEventV2): Promise<unknown> {
  const route = event.routeKey ?? "";
  if (route.endsWith("/versions/{version}")) {
    const { path } = parametersOf(event, versionPathSchema, z.object({}));
    return versionView(await requireVersion(store, path, path.version));
  }
  if (route.endsWith("/diff")) {
    const { path, query } = parametersOf(event, objectPathSchema, diffQuerySchema);
    const [from, to] = await Promise.all([requireVersion(store, path, query.from), requireVersion(store, path, query.to)]);
    return { object: objectKey(path), from: query.from, to: query.to, changes: diffDocuments(from.document, to.document) };
  }
  const { path, query } = parametersOf(event, objectPathSchema, listQuerySchema);
  const [head, attempts] = await Promise.all([
    store.getHead(path),
    query.cursor === undefined ? store.listAddAttempts(path, ADD_ATTEMPTS_SHOWN) : Promise.resolve([]),
  ]);
  if (!head && attempts.length === 0) throw new NotFoundError(`no versions of ${objectKey(path)}: it was never changed through gse-control`);
  const page = head ? await store.listVersions(path, query.limit, query.cursor) : { items: [], next: undefined };
  return {
    object: objectKey(path),
    head: head ? headView(head) : null,
    versions: page.items.map(versionView),
    add_attempts: attempts.map(addAttemptView),
    next_cursor: page.next ?? null,
  };
}
