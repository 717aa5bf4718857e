/**
 * What a configuration object is, as a whole: the full desired document of one route channel or
 * one stream_to, how each GSE change turns the previous document into the next one, what GSE
 * must then hold, and how to read the object back from GSE. Pure apart from the GSE reads.
 */
import * as z from "zod";
import type { GseClient } from "../gse/client.ts";
import { holdsDesired, type ConfigOperation } from "../gse/config-apply.ts";
import { readChannel, readStreamTo, type ListedStreamTo } from "../gse/objects.ts";
import type { OperationRequest } from "../gse/operations.ts";
import { labelSchema, routeEntrySchema, streamFilterSchema, streamToSchema, type RouteEntry, type StreamFilter } from "../gse/schemas.ts";

export const OBJECT_KINDS = ["route", "streamto"] as const;
export const objectKindSchema = z.enum(OBJECT_KINDS);
export type ObjectKind = z.infer<typeof objectKindSchema>;

/** `route#<channel_id>` or `streamto#<stream_to_id>`. */
export interface ObjectRef {
  readonly kind: ObjectKind;
  readonly id: number;
}

export const objectKey = (ref: ObjectRef): string => `${ref.kind}#${ref.id}`;

/** What a request that runs out of time names: the object, and the history that shows how its change ended. */
export const timeoutSubjectOf = (ref: ObjectRef): { object: string; check: string } => ({
  object: objectKey(ref),
  check: `GET /v1/configs/${ref.kind}/${ref.id}/versions`,
});

export function parseObjectKey(key: string): ObjectRef {
  const [kind, id] = key.split("#");
  return { kind: objectKindSchema.parse(kind), id: z.coerce.number().int().parse(id) };
}

export const routeDocumentSchema = z.object({
  plat_name: z.string().min(1),
  label: labelSchema.optional(),
  route: z.array(routeEntrySchema),
  stream_filters: z.array(streamFilterSchema),
});
export type RouteDocument = z.infer<typeof routeDocumentSchema>;

export const streamToDocumentSchema = z.object({
  plat_name: z.string().min(1),
  label: labelSchema.optional(),
  stream_to: streamToSchema,
});
export type StreamToDocument = z.infer<typeof streamToDocumentSchema>;

/** null: the object does not exist (before an add, after a delete). */
export const configDocumentSchema = z.union([routeDocumentSchema, streamToDocumentSchema]).nullable();
export type ConfigDocument = z.infer<typeof configDocumentSchema>;

export const isRouteDocument = (doc: ConfigDocument): doc is RouteDocument => doc !== null && "route" in doc;
export const isStreamToDocument = (doc: ConfigDocument): doc is StreamToDocument => doc !== null && "stream_to" in doc;

/** The object a change is about; undefined for an add whose id GSE allocates. */
export function objectOf(name: ConfigOperation, body: unknown): ObjectRef | undefined {
  switch (name) {
    case "add_streamto":
      return undefined;
    case "update_streamto":
    case "delete_streamto":
      return { kind: "streamto", id: (body as OperationRequest<"update_streamto">).condition.stream_to_id };
    case "add_route": {
      const id = (body as OperationRequest<"add_route">).metadata.channel_id;
      return id === undefined ? undefined : { kind: "route", id };
    }
    case "update_route":
    case "delete_route":
      return { kind: "route", id: (body as OperationRequest<"update_route">).condition.channel_id };
  }
}

/** The object an add created, from GSE's answer. */
export function allocatedObject(name: "add_streamto" | "add_route", data: unknown): ObjectRef {
  return name === "add_route"
    ? { kind: "route", id: (data as { channel_id: number }).channel_id }
    : { kind: "streamto", id: (data as { stream_to_id: number }).stream_to_id };
}

const upsertByName = <T extends { name: string }>(previous: readonly T[], changes: readonly T[]): T[] => {
  const out = [...previous];
  for (const change of changes) {
    const at = out.findIndex((item) => item.name === change.name);
    if (at === -1) out.push(change);
    else out[at] = change;
  }
  return out;
};

/**
 * The document after `name` is applied to `previous`, as GSE applies it (docs/gse-contract.md §6, §7):
 * update_route upserts by name and deletes nothing, delete_route `specification` removes only the
 * names given, update_streamto replaces the whole stream_to.
 */
export function nextDocument(name: ConfigOperation, body: unknown, previous: ConfigDocument): ConfigDocument {
  switch (name) {
    case "add_streamto": {
      const request = body as OperationRequest<"add_streamto">;
      return { plat_name: request.metadata.plat_name, ...(request.metadata.label ? { label: request.metadata.label } : {}), stream_to: request.stream_to };
    }
    case "update_streamto": {
      const request = body as OperationRequest<"update_streamto">;
      const label = isStreamToDocument(previous) ? previous.label : undefined;
      return { plat_name: request.condition.plat_name, ...(label ? { label } : {}), stream_to: request.specification.stream_to };
    }
    case "delete_streamto":
      return null;
    case "add_route": {
      const request = body as OperationRequest<"add_route">;
      return {
        plat_name: request.metadata.plat_name,
        ...(request.metadata.label ? { label: request.metadata.label } : {}),
        route: request.route ?? [],
        stream_filters: request.stream_filters ?? [],
      };
    }
    case "update_route": {
      const request = body as OperationRequest<"update_route">;
      const before: RouteDocument = isRouteDocument(previous) ? previous : { plat_name: request.condition.plat_name, route: [], stream_filters: [] };
      return {
        ...before,
        route: upsertByName(before.route, request.specification.route ?? []),
        stream_filters: upsertByName(before.stream_filters, request.specification.stream_filters ?? []),
      };
    }
    case "delete_route": {
      const request = body as OperationRequest<"delete_route">;
      if (request.operation.method === "all" || !isRouteDocument(previous)) return null;
      const routes = new Set(request.specification?.route ?? []);
      const filters = new Set(request.specification?.stream_filters ?? []);
      return {
        ...previous,
        route: previous.route.filter((r) => !routes.has(r.name)),
        stream_filters: previous.stream_filters.filter((f) => !filters.has(f.name)),
      };
    }
  }
}

/**
 * What GSE must hold after a change: `present` false = the object is gone; otherwise the routes,
 * filters or stream_to given must be there (compared by meaning, holdsDesired) and the names in
 * `absent*` must not. With `exact`, nothing else may be there either (a whole document: roll-back-to-N, undo, drift).
 */
export interface Expectation {
  readonly present: boolean;
  readonly routes?: readonly RouteEntry[];
  readonly filters?: readonly StreamFilter[];
  readonly absentRoutes?: readonly string[];
  readonly absentFilters?: readonly string[];
  readonly streamTo?: unknown;
  readonly exact?: boolean;
}

/** Verification compares the fields we sent (the "config ack"), nothing more. */
export function expectationOfRequest(name: ConfigOperation, body: unknown): Expectation {
  switch (name) {
    case "add_streamto":
      return { present: true, streamTo: (body as OperationRequest<"add_streamto">).stream_to };
    case "update_streamto":
      return { present: true, streamTo: (body as OperationRequest<"update_streamto">).specification.stream_to };
    case "delete_streamto":
      return { present: false };
    case "add_route": {
      const request = body as OperationRequest<"add_route">;
      return { present: true, routes: request.route ?? [], filters: request.stream_filters ?? [] };
    }
    case "update_route": {
      const request = body as OperationRequest<"update_route">;
      return { present: true, routes: request.specification.route ?? [], filters: request.specification.stream_filters ?? [] };
    }
    case "delete_route": {
      const request = body as OperationRequest<"delete_route">;
      if (request.operation.method === "all") return { present: false };
      // A channel left with no routes may or may not exist afterwards (docs/gse-contract.md §7.4): both pass.
      return { present: true, absentRoutes: request.specification?.route ?? [], absentFilters: request.specification?.stream_filters ?? [] };
    }
  }
}

/** The whole document, and nothing else: what a roll-back-to-N, an undo or a drift check expects. */
export function expectationOfDocument(doc: ConfigDocument): Expectation {
  if (doc === null) return { present: false };
  if (isRouteDocument(doc)) return { present: true, routes: doc.route, filters: doc.stream_filters, exact: true };
  return { present: true, streamTo: doc.stream_to, exact: true };
}

const named = <T extends { name: string }>(stored: readonly T[] | null | undefined, want: readonly T[] | undefined, exact: boolean | undefined): boolean => {
  const have = stored ?? [];
  const wanted = want ?? [];
  if (!wanted.every((w) => have.some((h) => h.name === w.name && holdsDesired(h, w)))) return false;
  return !exact || have.every((h) => wanted.some((w) => w.name === h.name));
};

/** Does what GSE holds (`current`, null when absent) meet the expectation? */
export function meets(current: ConfigDocument, expectation: Expectation): boolean {
  if (!expectation.present) return current === null;
  const onlyAbsences = expectation.routes === undefined && expectation.filters === undefined && expectation.streamTo === undefined;
  if (current === null) return onlyAbsences;
  if (isRouteDocument(current)) {
    if (expectation.streamTo !== undefined) return false;
    const absentRoutes = new Set(expectation.absentRoutes ?? []);
    const absentFilters = new Set(expectation.absentFilters ?? []);
    return (
      named(current.route, expectation.routes, expectation.exact) &&
      named(current.stream_filters, expectation.filters, expectation.exact) &&
      !current.route.some((r) => absentRoutes.has(r.name)) &&
      !current.stream_filters.some((f) => absentFilters.has(f.name))
    );
  }
  return expectation.streamTo !== undefined && holdsDesired(current.stream_to, expectation.streamTo);
}

/** What GSE holds for the object now, as a document; null when GSE says it does not exist. */
export async function readObject(gse: GseClient, ref: ObjectRef, platName: string, operator: string): Promise<ConfigDocument> {
  if (ref.kind === "route") {
    const channel = await readChannel(gse, ref.id, operator);
    if (!channel) return null;
    return {
      plat_name: channel.metadata.plat_name ?? platName,
      ...(channel.metadata.label ? { label: channel.metadata.label } : {}),
      route: channel.route ?? [],
      stream_filters: channel.stream_filters ?? [],
    };
  }
  const held = await readStreamTo(gse, ref.id, platName, operator);
  return held ? streamToDocumentOf(held, platName) : null;
}

/** A listed stream_to (query_streamto's item, either shape) as its document. */
export function streamToDocumentOf(held: ListedStreamTo, platName: string): StreamToDocument {
  if (held.shape === "nested") return { plat_name: held.platName ?? platName, ...(held.label ? { label: held.label } : {}), stream_to: held.streamTo };
  // A flat item carries its id beside the stream_to's own fields: the document keeps only the latter.
  const { stream_to_id: _id, ...streamTo } = held.streamTo;
  return { plat_name: platName, stream_to: streamTo };
}

/** The platform a request acts for (stream_to queries need it; routes are read without it). */
export function platNameOf(name: ConfigOperation, body: unknown): string {
  switch (name) {
    case "add_streamto":
    case "add_route":
      return (body as OperationRequest<"add_route">).metadata.plat_name;
    default:
      return (body as OperationRequest<"update_route">).condition.plat_name;
  }
}

export const operatorOf = (body: unknown): string => (body as { operation: { operator_name: string } }).operation.operator_name;
