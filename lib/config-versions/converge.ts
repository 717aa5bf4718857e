/**
 * Brings one object in GSE to a whole document: what an undo, a roll-back-to-N and a drift
 * repair do. Reads first and sends only the difference (STYLE.md rule 6), each write through
 * applyConfigChange so a lost answer is resolved by reading back, never by a blind repeat.
 */
import type { GseClient } from "../gse/client.ts";
import { applyConfigChange, holdsDesired } from "../gse/config-apply.ts";
import { expectationOfDocument, isRouteDocument, meets, readObject, type ConfigDocument, type ObjectRef } from "./documents.ts";

export class CannotConvergeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CannotConvergeError";
  }
}

/**
 * A write failed after an earlier one of the same convergence was applied: GSE holds part of the
 * document. Never a plain refusal, whatever the cause says.
 */
export class PartialConvergeError extends Error {
  constructor(
    readonly writes: number,
    options: { cause: unknown },
  ) {
    super(`GSE took ${writes} of the writes, then: ${options.cause instanceof Error ? options.cause.message : String(options.cause)}`, options);
    this.name = "PartialConvergeError";
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
  const write = async <N extends Parameters<typeof applyConfigChange>[1]>(name: N, body: Parameters<typeof applyConfigChange<N>>[2]): Promise<void> => {
    try {
      await applyConfigChange(gse, name, body);
    } catch (error) {
      throw writes > 0 ? new PartialConvergeError(writes, { cause: error }) : error;
    }
    writes += 1;
  };

  if (ref.kind === "route") {
    if (target === null) {
      await applyConfigChange(gse, "delete_route", {
        condition: { channel_id: ref.id, plat_name: current?.plat_name ?? platName },
        operation: { ...operation, method: "all" },
      });
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
    // update_route upserts and never deletes (docs/gse-contract.md §7.3): extra names go by delete_route.
    // Only entries GSE does not already hold are sent: an entry written by someone else since is
    // not written over with the same value it has.
    const condition = { channel_id: ref.id, plat_name: target.plat_name };
    const missing = <T extends { name: string }>(want: readonly T[], have: readonly T[]): T[] =>
      want.filter((w) => !have.some((h) => h.name === w.name && holdsDesired(h, w)));
    const routes = missing(target.route, current.route);
    const filters = missing(target.stream_filters, current.stream_filters);
    if (routes.length > 0 || filters.length > 0) {
      await write("update_route", {
        condition,
        operation,
        specification: { ...(routes.length > 0 ? { route: routes } : {}), ...(filters.length > 0 ? { stream_filters: filters } : {}) },
      });
    }
    const wantedRoutes = new Set(target.route.map((r) => r.name));
    const wantedFilters = new Set(target.stream_filters.map((f) => f.name));
    const extraRoutes = current.route.map((r) => r.name).filter((n) => !wantedRoutes.has(n));
    const extraFilters = current.stream_filters.map((f) => f.name).filter((n) => !wantedFilters.has(n));
    if (extraRoutes.length > 0 || extraFilters.length > 0) {
      await write("delete_route", {
        condition,
        operation: { ...operation, method: "specification" },
        specification: { ...(extraRoutes.length ? { route: extraRoutes } : {}), ...(extraFilters.length ? { stream_filters: extraFilters } : {}) },
      });
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
