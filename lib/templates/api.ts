/**
 * The template routes' work (docs/rollouts.md §4): store a new version when the body changed,
 * answer one version, list the templates.
 */
import { createHash } from "node:crypto";
import { canonicalJson } from "../core/canonical-json.ts";
import { ConflictError, ItemTooLargeError, NotFoundError } from "../core/errors.ts";
import { biggestField, DYNAMODB_ITEM_LIMIT_BYTES, itemSize } from "../dynamo/item-size.ts";
import type { PointerItem, VersionItem } from "./items.ts";
import { templatePk, versionSk, TEMPLATE_INDEX_PK } from "./items.ts";
import { MAX_TEMPLATE_VERSION, templateVersionSchema, type TemplateBody, type TemplateList, type TemplatePutAnswer, type TemplateVersion } from "./schemas.ts";
import type { TemplateStore } from "./store.ts";

export interface TemplateDeps {
  readonly store: TemplateStore;
  readonly now: () => number;
}

/** Writers racing on one template each re-read the pointer and try again; this many rounds is a fight, not a race. */
const PUT_ATTEMPTS = 10;

/** Key order and whitespace are not part of what a body means. */
export const bodyHash = (body: TemplateBody): string => createHash("sha256").update(canonicalJson(body), "utf8").digest("hex");

/** A stored version as the API answers it. */
export function templateView(item: VersionItem): TemplateVersion {
  return templateVersionSchema.parse({
    name: item.name,
    version: item.version,
    ...item.body,
    created_at: new Date(item.created_at).toISOString(),
    created_by: item.created_by,
  });
}

async function requireVersion(store: TemplateStore, name: string, version: number): Promise<VersionItem> {
  const item = await store.getVersion(name, version);
  if (!item) throw new NotFoundError(`template ${name} has no version ${version}`);
  return item;
}

function newVersion(name: string, body: TemplateBody, hash: string, version: number, who: string, now: number): { item: VersionItem; pointer: PointerItem } {
  const item: VersionItem = { pk: templatePk(name), sk: versionSk(version), name, version, body, body_hash: hash, created_at: now, created_by: who };
  const pointer: PointerItem = {
    pk: TEMPLATE_INDEX_PK,
    sk: name,
    name,
    latest_version: version,
    body_hash: hash,
    ...(body.description !== undefined ? { description: body.description } : {}),
    updated_at: now,
    updated_by: who,
  };
  return { item, pointer };
}

/** Room left in the item for what itemSize's estimate may miss. */
const MAX_VERSION_BYTES = DYNAMODB_ITEM_LIMIT_BYTES - 8 * 1024;

/**
 * A version is one item: content and undo.content may each be as large as a command's, and both
 * together may not fit. Refused (413 naming the field to shrink) before anything is read or written.
 */
function assertVersionFits(item: VersionItem): void {
  const bytes = itemSize(item);
  if (bytes <= MAX_VERSION_BYTES) return;
  const field = biggestField(item.body);
  const name = field.path === "" ? "(body)" : field.path;
  throw new ItemTooLargeError(
    `the template would be stored in ${bytes} bytes; at most ${MAX_VERSION_BYTES} fit in one version: ${name} is ${field.bytes} bytes`,
    {
      field: name,
      field_bytes: field.bytes,
      record_bytes: bytes,
      limit_bytes: MAX_VERSION_BYTES,
    },
  );
}

/** PUT /v1/templates/{name}: version latest+1 when the body differs from the latest, else the latest with `created: false`. */
export async function putTemplate(deps: TemplateDeps, name: string, body: TemplateBody, who: string): Promise<TemplatePutAnswer> {
  const hash = bodyHash(body);
  assertVersionFits(newVersion(name, body, hash, MAX_TEMPLATE_VERSION, who, deps.now()).item);
  for (let attempt = 1; attempt <= PUT_ATTEMPTS; attempt++) {
    const pointer = await deps.store.getPointer(name);
    if (pointer?.body_hash === hash) return { created: false, template: templateView(await requireVersion(deps.store, name, pointer.latest_version)) };
    const next = (pointer?.latest_version ?? 0) + 1;
    if (next > MAX_TEMPLATE_VERSION) throw new ConflictError(`template ${name} has ${MAX_TEMPLATE_VERSION} versions, the most it can have`);
    const written = newVersion(name, body, hash, next, who, deps.now());
    if (await deps.store.putVersion(written.item, written.pointer, pointer?.latest_version)) return { created: true, template: templateView(written.item) };
  }
  throw new ConflictError(`template ${name} is being changed by others: try again`);
}

/** GET /v1/templates/{name}: the latest version, or `version`. */
export async function getTemplate(store: TemplateStore, name: string, version?: number): Promise<TemplateVersion> {
  if (version !== undefined) return templateView(await requireVersion(store, name, version));
  const pointer = await store.getPointer(name);
  if (!pointer) throw new NotFoundError(`no template ${name}`);
  return templateView(await requireVersion(store, name, pointer.latest_version));
}

/** GET /v1/templates: by name, each with its latest version. */
export async function listTemplates(store: TemplateStore, query: { limit: number; cursor?: string | undefined }): Promise<TemplateList> {
  const page = await store.listPointers({ limit: query.limit, cursor: query.cursor });
  return {
    templates: page.items.map((p) => ({
      name: p.name,
      latest_version: p.latest_version,
      ...(p.description !== undefined ? { description: p.description } : {}),
      updated_at: new Date(p.updated_at).toISOString(),
      updated_by: p.updated_by,
    })),
    ...(page.cursor ? { next_cursor: page.cursor } : {}),
  };
}
