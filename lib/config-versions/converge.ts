/**
 * Brings one object in GSE to a whole document: what a rollback, a roll-back-to-N and a drift
 * repair do. Reads first and sends only the difference (STYLE.md rule 6), each write through
 * applyConfigChange so a lost answer is resolved by reading back, never by a blind repeat.
 */
import type { GseClient } from "../gse/client.ts";
import { applyConfigChange } from "../gse/config-apply.ts";
import { expectationOfDocument, isRouteDocument, meets, readObject, type ConfigDocument, type ObjectRef } from "./documents.ts";

export class CannotConvergeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CannotConvergeError";
  }
}

export interface Convergence {
  /** GSE writes sent (0 when GSE already held the document). */
  readonly writes: number;
}

/**
 * `platName`: the platform the object belongs to (GSE checks it on mutations); `current`: what
 * GSE holds now, when the caller has just read it.
 */
export async function converge(
  gse: GseClient,
  ref: ObjectRef,
  target: ConfigDocument,
  options: { platName: string; operator: string; current?: ConfigDocument },
): Promise<Convergence> {
  const { platName, operator } = options;
  const current = options.current !== undefined ? options.current : await readObject(gse, ref, platName, operator);
  if (meets(current, expectationOfDocument(target))) return { writes: 0 };
  const operation = { operator_name: operator };
  let writes = 0;

  if (ref.kind === "route") {
    if (target === null) {
      await applyConfigChange(gse, "delete_route", { condition: { channel_id: ref.id, plat_name: current?.plat_name ?? platName }, operation: { ...operation, method: "all" } });
      return { writes: 1 };
    }
    if (!isRouteDocument(target)) throw new CannotConvergeError(`route#${ref.id}: the document is not a route channel`);
    if (current === null) {
      await applyConfigChange(gse, "add_route", {
        metadata: { channel_id: ref.id, plat_name: target.plat_name, ...(target.label ? { label: target.label } : {}) },
        operation,
        route: target.route,
        stream_filters: target.stream_filters,
      });
      return { writes: 1 };
    }
    if (!isRouteDocument(current)) throw new CannotConvergeError(`route#${ref.id}: GSE holds something that is not a route channel`);
    // update_route upserts and never deletes (gse-api.md §7.3): extra names go by delete_route.
    const condition = { channel_id: ref.id, plat_name: target.plat_name };
    if (target.route.length > 0 || target.stream_filters.length > 0) {
      await applyConfigChange(gse, "update_route", {
        condition,
        operation,
        specification: {
          ...(target.route.length > 0 ? { route: target.route } : {}),
          ...(target.stream_filters.length > 0 ? { stream_filters: target.stream_filters } : {}),
        },
      });
      writes += 1;
    }
    const wantedRoutes = new Set(target.route.map((r) => r.name));
    const wantedFilters = new Set(target.stream_filters.map((f) => f.name));
    const extraRoutes = current.route.map((r) => r.name).filter((n) => !wantedRoutes.has(n));
    const extraFilters = current.stream_filters.map((f) => f.name).filter((n) => !wantedFilters.has(n));
    if (extraRoutes.length > 0 || extraFilters.length > 0) {
      await applyConfigChange(gse, "delete_route", {
        condition,
        operation: { ...operation, method: "specification" },
        specification: { ...(extraRoutes.length ? { route: extraRoutes } : {}), ...(extraFilters.length ? { stream_filters: extraFilters } : {}) },
      });
      writes += 1;
    }
    return { writes };
  }

  if (target === null) {
    await applyConfigChange(gse, "delete_streamto", { condition: { stream_to_id: ref.id, plat_name: current?.plat_name ?? platName }, operation });
    return { writes: 1 };
  }
  if (isRouteDocument(target)) throw new CannotConvergeError(`streamto#${ref.id}: the document is not a stream_to`);
  if (current === null) {
    // GSE allocates stream_to ids: a deleted one cannot be brought back under the same id.
    throw new CannotConvergeError(`streamto#${ref.id} no longer exists in GSE and cannot be re-created under its id; re-add it and repoint its routes`);
  }
  await applyConfigChange(gse, "update_streamto", {
    condition: { stream_to_id: ref.id, plat_name: target.plat_name },
    operation,
    specification: { stream_to: target.stream_to },
  });
  return { writes: 1 };
}
