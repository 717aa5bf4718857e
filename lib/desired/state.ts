/**
 * What GSE holds now, for a plan: every stream_to of the platform (GSE lists them) and the route
 * channels asked for (GSE reads channels one id at a time; there is no listing). The state's hash
 * is what an apply compares to know whether GSE moved since its plan.
 */
import { createHash } from "node:crypto";
import { canonicalJson } from "../core/canonical-json.ts";
import type { GseClient } from "../gse/client.ts";
import { listedStreamTo, queryStreamTos } from "../gse/objects.ts";
import { readObject, streamToDocumentOf, type RouteDocument, type StreamToDocument } from "../config-versions/documents.ts";

export interface HeldStreamTo {
  readonly id: number;
  readonly document: StreamToDocument;
}

export interface GseState {
  readonly plat_name: string;
  /** Every stream_to GSE lists for the platform, by id ascending. */
  readonly stream_tos: readonly HeldStreamTo[];
  /** The channels read, by id: null when GSE holds none. */
  readonly channels: ReadonlyMap<number, RouteDocument | null>;
}

/** Channels read at once: GSE is read one channel per call. */
const READ_CONCURRENCY = 8;

export async function readState(gse: GseClient, platName: string, channelIds: readonly number[], operator: string): Promise<GseState> {
  const items = await queryStreamTos(gse, { platName, operator });
  const streamTos: HeldStreamTo[] = [];
  for (const item of items) {
    const listed = listedStreamTo(item);
    if (listed) streamTos.push({ id: listed.id, document: streamToDocumentOf(listed, platName) });
  }
  streamTos.sort((a, b) => a.id - b.id);
  const ids = [...new Set(channelIds)].sort((a, b) => a - b);
  const channels = new Map<number, RouteDocument | null>();
  for (let i = 0; i < ids.length; i += READ_CONCURRENCY) {
    const part = ids.slice(i, i + READ_CONCURRENCY);
    const docs = await Promise.all(part.map((id) => readObject(gse, { kind: "route", id }, platName, operator)));
    for (const [k, id] of part.entries()) channels.set(id, (docs[k] as RouteDocument | null) ?? null);
  }
  return { plat_name: platName, stream_tos: streamTos, channels };
}

/** sha256 over what was read, in a canonical order: the same GSE state gives the same hash. */
export function stateHash(state: GseState): string {
  const channels = [...state.channels.entries()].sort(([a], [b]) => a - b);
  return createHash("sha256")
    .update(canonicalJson({ plat_name: state.plat_name, stream_tos: state.stream_tos, channels }))
    .digest("hex");
}
