/**
 * Compare-and-restore, pure: undo only what a failed version wrote, and only where GSE still holds
 * it. From three documents — the last good one, the one the failed version wrote, and what GSE
 * holds now — it works out what GSE should hold after the undo and whether GSE holds anything that
 * neither version wrote (another client's change, or the object gone), which is left alone.
 *
 * The unit of comparison is the smallest thing a GSE write replaces: a route channel's entries
 * (routes and stream filters, by name) and the channel's existence; a stream_to as a whole.
 */
import { holdsDesired } from "../gse/config-apply.ts";
import { isRouteDocument, isStreamToDocument, type ConfigDocument, type ObjectKind, type RouteDocument } from "./documents.ts";

export interface RestorePlan {
  /** What GSE should hold once the undo is done; equals what it holds when there is nothing to undo. */
  readonly target: ConfigDocument;
  /** Something of the failed version is still in GSE and has to be written back. */
  readonly undo: boolean;
  /** GSE holds something neither the last good version nor the failed one wrote: left as it is. */
  readonly foreign: boolean;
}

/** Our own two documents hold the same (both written by us, so compared both ways). */
const same = (a: unknown, b: unknown): boolean => (a === undefined ? b === undefined : b !== undefined && holdsDesired(a, b) && holdsDesired(b, a));
/** What GSE holds (`held`, with GSE's output defaults) is what we wrote (`wanted`); both absent counts. */
const holds = (held: unknown, wanted: unknown): boolean => (wanted === undefined ? held === undefined : held !== undefined && holdsDesired(held, wanted));

interface Merged<T> {
  readonly entries: T[];
  readonly undo: boolean;
  readonly foreign: boolean;
}

/**
 * One list of named entries: an entry the failed version changed (added, altered, removed) and
 * that GSE still holds as it wrote it goes back to the last good one; an entry GSE holds as the
 * last good version had it stays; anything else is someone else's and stays as GSE holds it.
 */
function mergeNamed<T extends { name: string }>(good: readonly T[], written: readonly T[], current: readonly T[]): Merged<T> {
  const byName = (list: readonly T[]) => new Map(list.map((e) => [e.name, e] as const));
  const g = byName(good);
  const w = byName(written);
  const c = byName(current);
  const names = [...new Set([...current.map((e) => e.name), ...good.map((e) => e.name), ...written.map((e) => e.name)])];
  const entries: T[] = [];
  let undo = false;
  let foreign = false;
  for (const name of names) {
    const [G, W, C] = [g.get(name), w.get(name), c.get(name)];
    let keep: T | undefined = C;
    if (!same(W, G) && holds(C, W)) {
      // Ours, and still there: back to what the last good version had (or gone, if it had none).
      keep = G;
      undo = true;
    } else if (!holds(C, G)) {
      foreign = true;
    }
    if (keep !== undefined) entries.push(keep);
  }
  return { entries, undo, foreign };
}

const emptyChannel = (platName: string): RouteDocument => ({ plat_name: platName, route: [], stream_filters: [] });

function planRoute(good: ConfigDocument, written: ConfigDocument, current: ConfigDocument): RestorePlan {
  if (current !== null && !isRouteDocument(current)) return { target: current, undo: false, foreign: true };
  // A channel left with no entries may be gone afterwards (docs/gse-contract.md §7.4): as good as deleted.
  const emptied = written !== null && isRouteDocument(written) && written.route.length === 0 && written.stream_filters.length === 0;
  if (written === null || (emptied && current === null)) {
    // The version deleted the channel: still gone → bring it back; there again → not ours to touch.
    if (current === null) return { target: good, undo: good !== null, foreign: false };
    return { target: current, undo: false, foreign: good === null || !isRouteDocument(good) || !holdsChannel(current, good) };
  }
  if (!isRouteDocument(written)) return { target: current, undo: false, foreign: true };
  if (current === null) {
    // Gone: either the channel never existed before and our add did not take, or someone removed it.
    return { target: null, undo: false, foreign: good !== null };
  }
  const base = good !== null && isRouteDocument(good) ? good : emptyChannel(written.plat_name);
  const routes = mergeNamed(base.route, written.route, current.route);
  const filters = mergeNamed(base.stream_filters, written.stream_filters, current.stream_filters);
  const undo = routes.undo || filters.undo;
  const foreign = routes.foreign || filters.foreign;
  // A channel the version created, holding nothing of anyone else's once ours is taken out, goes.
  if (good === null && !foreign) return { target: null, undo, foreign };
  return { target: { ...current, plat_name: base.plat_name, route: routes.entries, stream_filters: filters.entries }, undo, foreign };
}

/** Exactly the last good channel (as GSE shows it): every entry held, nothing more. */
function holdsChannel(current: RouteDocument, good: RouteDocument): boolean {
  const exact = <T extends { name: string }>(have: readonly T[], want: readonly T[]) =>
    have.length === want.length && want.every((w) => have.some((h) => h.name === w.name && holdsDesired(h, w)));
  return exact(current.route, good.route) && exact(current.stream_filters, good.stream_filters);
}

function planStreamTo(good: ConfigDocument, written: ConfigDocument, current: ConfigDocument): RestorePlan {
  const streamTo = (doc: ConfigDocument) => (isStreamToDocument(doc) ? doc.stream_to : undefined);
  const [G, W, C] = [streamTo(good), streamTo(written), streamTo(current)];
  if (!same(W, G) && holds(C, W)) return { target: good, undo: true, foreign: false };
  return { target: current, undo: false, foreign: !holds(C, G) };
}

/**
 * `good`: the last good version's document; `written`: the failed version's; `current`: what GSE
 * holds now (null: absent).
 */
export function planRestore(kind: ObjectKind, good: ConfigDocument, written: ConfigDocument, current: ConfigDocument): RestorePlan {
  return kind === "route" ? planRoute(good, written, current) : planStreamTo(good, written, current);
}
