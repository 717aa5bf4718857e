/**
 * The one reader of GSE's configuration objects: a route channel by id, the stream_tos of a
 * platform. GSE answers "no such object" with an error code (GseError.notFound) rather than an
 * empty list; here, and only here, that answer becomes "absent", so every caller (the versioned
 * flow's read-back and drift check, resolving a write whose answer was lost) sees one meaning.
 */
import type { z } from "zod";
import { GseError } from "../core/errors.ts";
import type { GseClient } from "./client.ts";
import {
  queryStreamToFlatItemSchema,
  queryStreamToNestedItemSchema,
  type Label,
  type QueryRouteChannel,
  type QueryStreamToData,
  type StreamTo,
} from "./schemas.ts";

const isNotFound = (error: unknown): boolean => error instanceof GseError && error.notFound;

/** The channel GSE holds under `channelId`; undefined when GSE says it does not exist. */
export async function readChannel(gse: GseClient, channelId: number, operator: string): Promise<QueryRouteChannel | undefined> {
  try {
    const channels = await gse.call("query_route", { condition: { channel_id: channelId }, operation: { operator_name: operator } });
    // Asked by id, GSE answers that channel; a lone channel under another id is taken as it.
    return channels.find((c) => c.metadata.channel_id === channelId) ?? channels[0];
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** The platform's stream_tos, or only `streamToId`'s; [] when GSE says there are none. */
export async function queryStreamTos(gse: GseClient, query: { platName: string; operator: string; streamToId?: number }): Promise<QueryStreamToData> {
  try {
    return await gse.call("query_streamto", {
      condition: { plat_name: query.platName, ...(query.streamToId !== undefined ? { stream_to_id: query.streamToId } : {}) },
      operation: { operator_name: query.operator },
    });
  } catch (error) {
    if (isNotFound(error)) return [];
    throw error;
  }
}

/**
 * One query_streamto item, whichever shape GSE gave it (sources disagree: bk-cmdb and bk-log read
 * nested items, bk-monitor's Kafka tail flat ones). `streamTo` is the nested item's stream_to, or the whole flat item
 * (its stream_to_id included: what a comparison with holdsDesired may look at).
 */
export type ListedStreamTo =
  | { readonly shape: "nested"; readonly id: number; readonly platName: string | undefined; readonly label: Label | undefined; readonly streamTo: StreamTo }
  | { readonly shape: "flat"; readonly id: number; readonly streamTo: z.infer<typeof queryStreamToFlatItemSchema> };

function asNested(item: unknown): ListedStreamTo | undefined {
  const nested = queryStreamToNestedItemSchema.safeParse(item);
  if (!nested.success) return undefined;
  const { metadata, stream_to } = nested.data;
  return { shape: "nested", id: metadata.stream_to_id, platName: metadata.plat_name, label: metadata.label, streamTo: stream_to };
}

function asFlat(item: unknown): ListedStreamTo | undefined {
  const flat = queryStreamToFlatItemSchema.safeParse(item);
  return flat.success ? { shape: "flat", id: flat.data.stream_to_id, streamTo: flat.data } : undefined;
}

/** An item read as nested first (an item carrying both shapes is nested); undefined when it is neither. */
export const listedStreamTo = (item: unknown): ListedStreamTo | undefined => asNested(item) ?? asFlat(item);

/** The item that is stream_to `id`, read in either shape (an item whose nested id differs may still be it, flat). */
export function findStreamTo(items: readonly unknown[], id: number): ListedStreamTo | undefined {
  for (const item of items) {
    const nested = asNested(item);
    if (nested?.id === id) return nested;
    const flat = asFlat(item);
    if (flat?.id === id) return flat;
  }
  return undefined;
}

/** Stream_to `id` as GSE holds it now; undefined when GSE says it does not exist. */
export async function readStreamTo(gse: GseClient, id: number, platName: string, operator: string): Promise<ListedStreamTo | undefined> {
  return findStreamTo(await queryStreamTos(gse, { platName, operator, streamToId: id }), id);
}
