import { GseError } from "../core/errors.ts";
import type { GseClient } from "./client.ts";
import type { OperationRequest, OperationResponseData } from "./operations.ts";
import { listedStreamTo, queryStreamTos, readChannel } from "./objects.ts";
import type { QueryStreamToData, RouteEntry, StreamTo } from "./schemas.ts";

/**
 * The one function every stream_to/route write to GSE goes through (the versioned flow in
 * lib/config-versions calls it for each write). What it guarantees: a write whose outcome is
 * unknown (GSE took it, then the answer was lost) is resolved by reading
 * the object back before anything is sent again, so a retry never creates a second stream_to or
 * route; one that cannot be resolved that way is reported, not repeated.
 */
export type ConfigOperation = "add_streamto" | "update_streamto" | "delete_streamto" | "add_route" | "update_route" | "delete_route";

type Resolution<N extends ConfigOperation> =
  | { readonly applied: true; readonly data: OperationResponseData<N> }
  | { readonly applied: false }
  /** No read can tell (e.g. an add whose id GSE was to allocate): report, never repeat. */
  | { readonly applied: "unknowable" };

export async function applyConfigChange<N extends ConfigOperation>(gse: GseClient, name: N, body: OperationRequest<N>): Promise<OperationResponseData<N>> {
  try {
    return await gse.call(name, body);
  } catch (error) {
    if (!(error instanceof GseError) || error.outcome !== "unknown") throw error;
    let resolution: Resolution<N>;
    try {
      resolution = (await resolveUnknownOutcome(gse, name, body)) as Resolution<N>;
    } catch {
      // The read-back failed too: what is known is the write's unknown outcome, not the read's error.
      throw error;
    }
    if (resolution.applied === true) return resolution.data;
    if (resolution.applied === "unknowable") throw error;
    // The read shows nothing happened, so one more send is safe. If that one is also lost,
    // its error goes to the caller: no loop.
    return await gse.call(name, body);
  }
}

/**
 * Does `stored` hold everything `desired` says? GSE adds defaults on output (Kafka `partition`,
 * `biz_id`, `data_set`) and spells a Pulsar topic `topic_name` or `name` (docs/gse-contract.md §10b.2), so
 * the comparison is of meaning: every field we sent, with the Pulsar alias, and nothing more.
 */
export function holdsDesired(stored: unknown, desired: unknown): boolean {
  if (Array.isArray(desired)) {
    return Array.isArray(stored) && desired.length === stored.length && desired.every((d, i) => holdsDesired(stored[i], d));
  }
  if (desired !== null && typeof desired === "object") {
    if (stored === null || typeof stored !== "object" || Array.isArray(stored)) return false;
    const s = stored as Record<string, unknown>;
    return Object.entries(desired).every(([key, value]) => {
      if (value === undefined) return true;
      if (key in s) return holdsDesired(s[key], value);
      const alias = key === "topic_name" ? "name" : key === "name" ? "topic_name" : undefined;
      return alias !== undefined && alias in s && holdsDesired(s[alias], value);
    });
  }
  return stored === desired;
}

/** The stream_to an item shows; an item of neither shape fails the read-back (the write's own error is reported). */
function streamToOf(item: QueryStreamToData[number]): { id: number; streamTo: unknown } {
  const listed = listedStreamTo(item);
  if (!listed) throw new Error("query_streamto answered an item of neither shape");
  return { id: listed.id, streamTo: listed.streamTo };
}

const routesHeld = (stored: readonly RouteEntry[], desired: readonly RouteEntry[]): boolean =>
  desired.every((want) => stored.some((have) => have.name === want.name && holdsDesired(have, want)));

async function resolveUnknownOutcome(gse: GseClient, name: ConfigOperation, body: unknown): Promise<Resolution<ConfigOperation>> {
  switch (name) {
    case "add_streamto": {
      const request = body as OperationRequest<"add_streamto">;
      const matches = (await queryStreamTos(gse, { platName: request.metadata.plat_name, operator: request.operation.operator_name }))
        .map(streamToOf)
        .filter(({ streamTo }) => holdsDesired(streamTo, request.stream_to as StreamTo));
      // Names are not known to be unique in GSE: two look-alikes mean we cannot tell which is ours.
      if (matches.length > 1) return { applied: "unknowable" };
      const match = matches[0];
      return match ? { applied: true, data: { stream_to_id: match.id, name: request.stream_to.name } } : { applied: false };
    }
    case "update_streamto": {
      const request = body as OperationRequest<"update_streamto">;
      const [item] = await queryStreamTos(gse, {
        platName: request.condition.plat_name,
        operator: request.operation.operator_name,
        streamToId: request.condition.stream_to_id,
      });
      return item && holdsDesired(streamToOf(item).streamTo, request.specification.stream_to) ? { applied: true, data: null } : { applied: false };
    }
    case "delete_streamto": {
      const request = body as OperationRequest<"delete_streamto">;
      const items = await queryStreamTos(gse, {
        platName: request.condition.plat_name,
        operator: request.operation.operator_name,
        streamToId: request.condition.stream_to_id,
      });
      return items.length === 0 ? { applied: true, data: null } : { applied: false };
    }
    case "add_route": {
      const request = body as OperationRequest<"add_route">;
      const channelId = request.metadata.channel_id;
      // GSE was to allocate the id: no read can find "the channel we just made".
      if (channelId === undefined) return { applied: "unknowable" };
      const channel = await readChannel(gse, channelId, request.operation.operator_name);
      if (!channel) return { applied: false };
      return routesHeld(channel.route ?? [], request.route ?? []) ? { applied: true, data: { channel_id: channelId } } : { applied: "unknowable" };
    }
    case "update_route": {
      const request = body as OperationRequest<"update_route">;
      const channel = await readChannel(gse, request.condition.channel_id, request.operation.operator_name);
      if (!channel) return { applied: false };
      const filtersHeld = (request.specification.stream_filters ?? []).every((want) =>
        (channel.stream_filters ?? []).some((have) => have.name === want.name && holdsDesired(have, want)),
      );
      return routesHeld(channel.route ?? [], request.specification.route ?? []) && filtersHeld ? { applied: true, data: null } : { applied: false };
    }
    case "delete_route": {
      const request = body as OperationRequest<"delete_route">;
      const channel = await readChannel(gse, request.condition.channel_id, request.operation.operator_name);
      if (request.operation.method === "all") return channel ? { applied: false } : { applied: true, data: null };
      if (!channel) return { applied: true, data: null };
      const routes = new Set(request.specification?.route ?? []);
      const filters = new Set(request.specification?.stream_filters ?? []);
      const remaining = (channel.route ?? []).some((r) => routes.has(r.name)) || (channel.stream_filters ?? []).some((f) => filters.has(f.name));
      return remaining ? { applied: false } : { applied: true, data: null };
    }
  }
}
