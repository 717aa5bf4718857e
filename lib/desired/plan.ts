/**
 * A plan, pure: from a desired document and what GSE holds (state.ts), what must change, object by
 * object, in the order an apply carries it out — stream_tos created or updated, then channels
 * created, updated or deleted, then stream_tos deleted — or why it cannot (a route naming a
 * stream_to that will not exist, a report type that does not match, a filter a route names and the
 * channel lacks). Names resolve to ids here; a stream_to the plan creates gets its id at apply.
 */
import { holdsDesired } from "../gse/config-apply.ts";
import type { FieldProblem } from "../core/errors.ts";
import { expectationOfDocument, meets, type ConfigDocument, type RouteDocument, type StreamToDocument } from "../config-versions/documents.ts";
import { diffDocuments, maskSecrets } from "../config-versions/mask.ts";
import type { RouteEntry } from "../gse/schemas.ts";
import type { GseState, HeldStreamTo } from "./state.ts";
import type { DesiredChannel, DesiredDocument, DesiredStreamTo, PlanAction, PlanChange } from "./schemas.ts";

/** A route entry as planned: its stream_to by name, and by id where the stream_to exists already. */
export interface PlannedRouteEntry extends Omit<RouteEntry, "stream_to"> {
  readonly stream_to: Record<string, unknown> & { readonly name: string; readonly stream_to_id?: number };
}

/** A channel's document as planned: GSE's route document, with stream_tos by name (ids resolved at apply). */
export interface PlannedRouteDocument extends Omit<RouteDocument, "route"> {
  readonly route: PlannedRouteEntry[];
}

/** One change as the apply needs it: the view's fields and the unmasked documents. */
export interface PlannedChange extends Omit<PlanChange, "before" | "after" | "changes"> {
  /** What GSE held when planned (null: absent). */
  readonly before: ConfigDocument;
  /** What it should hold (null: absent); routes carry stream_to names. */
  readonly after: StreamToDocument | PlannedRouteDocument | null;
}

export type PlanOutcome = { readonly ok: true; readonly changes: PlannedChange[] } | { readonly ok: false; readonly problems: FieldProblem[] };

const REPORT_KEYS = ["kafka", "redis", "pulsar"] as const;

/** A stream_to name after the apply: its id (null: the apply creates it), gone, or held more than once by GSE. */
type Target = { id: number | null; reportMode: string } | "gone" | "ambiguous";

function streamToDocumentOf(platName: string, desired: DesiredStreamTo): StreamToDocument {
  const { label, absent: _absent, ...streamTo } = desired;
  return { plat_name: platName, ...(label ? { label } : {}), stream_to: streamTo as StreamToDocument["stream_to"] };
}

const sameStreamTo = (held: StreamToDocument, want: StreamToDocument): boolean =>
  holdsDesired(held.stream_to, want.stream_to) && (want.label === undefined || holdsDesired(held.label ?? {}, want.label));

/** A planned channel with every stream_to id known, as GSE would hold it; undefined while one is still to be created. */
export function resolvedChannel(doc: PlannedRouteDocument, ids: ReadonlyMap<string, number>): RouteDocument | undefined {
  const route: RouteEntry[] = [];
  for (const entry of doc.route) {
    const { name, ...target } = entry.stream_to;
    const id = entry.stream_to.stream_to_id ?? ids.get(name);
    if (id === undefined) return undefined;
    route.push({ ...entry, stream_to: { ...target, stream_to_id: id } } as RouteEntry);
  }
  return { ...doc, route };
}

/**
 * The plan for `doc` against `state`. `lastApplied`: the channels the platform's last applied
 * document named (prune deletes those this one no longer names; they must be in `state`).
 */
export function computePlan(doc: DesiredDocument, state: GseState, lastApplied: readonly number[] = []): PlanOutcome {
  const problems: FieldProblem[] = [];
  const held = new Map<string, HeldStreamTo[]>();
  for (const s of state.stream_tos) held.set(s.document.stream_to.name, [...(held.get(s.document.stream_to.name) ?? []), s]);

  // 1. stream_tos: the document's, then (prune) the platform's others.
  const streamChanges: PlannedChange[] = [];
  /** name → what it will be after the apply: an id (existing), null (created by the plan), or gone. */
  const after = new Map<string, Target>();
  for (const [name, list] of held) after.set(name, list.length === 1 ? { id: list[0]!.id, reportMode: list[0]!.document.stream_to.report_mode } : "ambiguous");
  doc.stream_tos.forEach((desired, i) => {
    const same = held.get(desired.name) ?? [];
    if (same.length > 1) {
      problems.push({
        path: `stream_tos.${i}.name`,
        message: `GSE holds ${same.length} stream_tos named ${desired.name} (ids ${same.map((s) => s.id).join(", ")}): a name must be one stream_to`,
      });
      return;
    }
    const existing = same[0];
    if (desired.absent === true) {
      streamChanges.push(change("streamto", desired.name, existing?.id ?? null, existing ? "delete" : "unchanged", existing?.document ?? null, null));
      after.set(desired.name, "gone");
      return;
    }
    const want = streamToDocumentOf(state.plat_name, desired);
    const action: PlanAction = !existing ? "create" : sameStreamTo(existing.document, want) ? "unchanged" : "update";
    streamChanges.push(change("streamto", desired.name, existing?.id ?? null, action, existing?.document ?? null, want));
    after.set(desired.name, { id: existing?.id ?? null, reportMode: want.stream_to.report_mode });
  });
  if (doc.prune) {
    const named = new Set(doc.stream_tos.map((s) => s.name));
    for (const s of state.stream_tos) {
      if (named.has(s.document.stream_to.name)) continue;
      streamChanges.push(change("streamto", s.document.stream_to.name, s.id, "delete", s.document, null));
      after.set(s.document.stream_to.name, "gone");
    }
  }
  const deletedIds = new Map(streamChanges.filter((c) => c.action === "delete" && c.id !== null).map((c) => [c.id as number, c.name]));

  // 2. channels: the document's, then (prune) the last applied document's others.
  const channelChanges: PlannedChange[] = [];
  doc.routes.forEach((channel, c) => {
    const before = state.channels.get(channel.channel_id) ?? null;
    if (channel.absent === true) {
      channelChanges.push(change("route", String(channel.channel_id), channel.channel_id, before ? "delete" : "unchanged", before, null));
      return;
    }
    const planned = plannedChannel(state.plat_name, channel, c, after, problems);
    if (!planned) return;
    const resolved = resolvedChannel(planned, new Map());
    const action: PlanAction = !before
      ? "create"
      : resolved && meets(before, expectationOfDocument(resolved)) && sameLabel(before, channel)
        ? "unchanged"
        : "update";
    channelChanges.push(change("route", String(channel.channel_id), channel.channel_id, action, before, planned));
  });
  if (doc.prune) {
    const named = new Set(doc.routes.map((r) => r.channel_id));
    for (const id of lastApplied) {
      const before = state.channels.get(id) ?? null;
      if (named.has(id) || before === null) continue;
      channelChanges.push(change("route", String(id), id, "delete", before, null));
    }
  }

  // 3. a stream_to deleted while a channel that stays still sends to it.
  const staying = new Set(channelChanges.filter((c) => c.action === "delete").map((c) => c.id));
  for (const [id, before] of state.channels) {
    if (before === null || staying.has(id) || doc.routes.some((r) => r.channel_id === id)) continue;
    for (const entry of before.route) {
      const target = deletedIds.get(entry.stream_to.stream_to_id);
      if (target !== undefined)
        problems.push({
          path: "stream_tos",
          message: `stream_to ${target} is deleted by this plan but route ${entry.name} of channel ${id} still sends to it`,
        });
    }
  }
  if (problems.length > 0) return { ok: false, problems };

  const order = (c: PlannedChange): number =>
    c.kind === "streamto" && c.action !== "delete" ? 0 : c.kind === "route" && c.action !== "delete" ? 1 : c.kind === "route" ? 2 : 3;
  const changes = [...streamChanges, ...channelChanges]
    .map((c, i) => ({ c, i }))
    .sort((a, b) => order(a.c) - order(b.c) || a.i - b.i)
    .map(({ c }, i) => ({ ...c, order: i + 1 }));
  return { ok: true, changes };
}

const sameLabel = (before: RouteDocument, channel: DesiredChannel): boolean => channel.label === undefined || holdsDesired(before.label ?? {}, channel.label);

/** A channel's planned document, or undefined with its problems added: names resolved, report types and filters checked. */
function plannedChannel(
  platName: string,
  channel: DesiredChannel,
  c: number,
  after: ReadonlyMap<string, Target>,
  problems: FieldProblem[],
): PlannedRouteDocument | undefined {
  const before = problems.length;
  const filters = new Set(channel.stream_filters.map((f) => f.name));
  const route = channel.route.map((entry, r): PlannedRouteEntry => {
    const path = `routes.${c}.route.${r}`;
    const target = after.get(entry.stream_to.name);
    if (target === undefined)
      problems.push({
        path: `${path}.stream_to.name`,
        message: `route ${entry.name} of channel ${channel.channel_id} names stream_to ${entry.stream_to.name}, which neither the document nor GSE has`,
      });
    else if (target === "ambiguous")
      problems.push({
        path: `${path}.stream_to.name`,
        message: `route ${entry.name} of channel ${channel.channel_id} names stream_to ${entry.stream_to.name}, which GSE holds more than once`,
      });
    else if (target === "gone")
      problems.push({
        path: `${path}.stream_to.name`,
        message: `route ${entry.name} of channel ${channel.channel_id} names stream_to ${entry.stream_to.name}, which this plan deletes (a dangling reference)`,
      });
    else {
      const keys = REPORT_KEYS.filter((k) => entry.stream_to[k] !== undefined);
      if (keys.length !== 1)
        problems.push({ path: `${path}.stream_to`, message: `route ${entry.name} must give exactly one of kafka, redis or pulsar for its stream_to` });
      else if (keys[0] !== target.reportMode)
        problems.push({
          path: `${path}.stream_to.${keys[0]}`,
          message: `route ${entry.name} sends ${keys[0]} to stream_to ${entry.stream_to.name}, whose report_mode is ${target.reportMode}`,
        });
    }
    for (const f of [...(entry.filter_name_and ?? []), ...(entry.filter_name_or ?? [])]) {
      if (!filters.has(f))
        problems.push({ path: `${path}`, message: `route ${entry.name} names stream filter ${f}, which channel ${channel.channel_id} does not have` });
    }
    const id = typeof target === "object" ? target.id : null;
    return { ...entry, stream_to: { ...entry.stream_to, ...(id !== null ? { stream_to_id: id } : {}) } };
  });
  if (problems.length > before) return undefined;
  return { plat_name: platName, ...(channel.label ? { label: channel.label } : {}), route, stream_filters: channel.stream_filters };
}

function change(
  kind: "streamto" | "route",
  name: string,
  id: number | null,
  action: PlanAction,
  before: ConfigDocument,
  after: StreamToDocument | PlannedRouteDocument | null,
): PlannedChange {
  return { order: 0, kind, name, id, action, before, after };
}

/** What a person sees of a change: secrets masked, the field-level diff. */
export function changeView(c: PlannedChange): PlanChange {
  return {
    order: c.order,
    kind: c.kind,
    name: c.name,
    id: c.id,
    action: c.action,
    changes: c.action === "unchanged" ? [] : diffDocuments(c.before, c.after),
    before: maskSecrets(c.before) ?? null,
    after: maskSecrets(c.after) ?? null,
  };
}

export function summaryOf(changes: readonly { action: PlanAction }[]): { create: number; update: number; delete: number; unchanged: number } {
  const summary = { create: 0, update: 0, delete: 0, unchanged: 0 };
  for (const c of changes) summary[c.action]++;
  return summary;
}
