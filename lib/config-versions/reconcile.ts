/**
 * What the scheduled check does with config versions, and the on-demand drift check:
 * - A version PENDING for longer than CONFIG_PENDING_TIMEOUT_SECONDS belongs to a process that
 *   died mid-apply. GSE decides: if it holds what the version sent, the version is APPLIED and
 *   the head moved (as the dead process would have done); otherwise it is FAILED, and recovery
 *   rolls back as for any failure. A pending add stuck the same way becomes FAILED (its id, if
 *   GSE allocated one, was never learnt; recovery says so in a critical alert).
 * - Drift: each head's document compared with what GSE holds; a difference raises one alert per
 *   distinct difference and, with CONFIG_DRIFT_REPAIR, re-applies the head.
 */
import type { HeadItem } from "./store.ts";
import type { AlertPublisher } from "../core/alerts.ts";
import { deliver } from "../core/outbox.ts";
import { driftAlert, type ConfigAlert } from "./alerts.ts";
import { storedError, type ConfigDeps } from "./change.ts";
import { converge } from "./converge.ts";
import { configDocumentSchema, expectationOfDocument, meets, objectKey, parseObjectKey, readObject, type ObjectRef } from "./documents.ts";
import { undoPendingAdd, undoVersion } from "./undo.ts";
import { decidePending } from "./decide.ts";
import { diffDocuments, fieldChangeSchema, maskSecrets, type FieldChange } from "./mask.ts";
import * as z from "zod";
import { createHash } from "node:crypto";

export interface ReconcileSettings {
  readonly pendingTimeoutSeconds: number;
  readonly driftRepair: boolean;
}

export interface ReconcileDeps extends Pick<ConfigDeps, "gse" | "store" | "logger" | "now" | "metrics"> {
  readonly alerts: AlertPublisher<ConfigAlert>;
  readonly operator: string;
  readonly settings: ReconcileSettings;
}

export const driftReportSchema = z.object({
  object: z.string(),
  version: z.int(),
  in_sync: z.boolean(),
  /** Field-level difference from the head's document (what we hold) to GSE's; secrets masked. */
  changes: z.array(fieldChangeSchema),
  expected: configDocumentSchema,
  actual: configDocumentSchema,
});
export type DriftReport = z.infer<typeof driftReportSchema>;

/** Compares one object's head with GSE. Documents come back masked. */
export async function checkDrift(deps: Pick<ReconcileDeps, "gse" | "store" | "operator">, ref: ObjectRef, head?: HeadItem): Promise<DriftReport | undefined> {
  const current = head ?? (await deps.store.getHead(ref));
  if (!current) return undefined;
  const version = await deps.store.getVersion(ref, current.current_version);
  const expected = version?.document ?? null;
  const actual = await readObject(deps.gse, ref, expected?.plat_name ?? "", deps.operator);
  const inSync = meets(actual, expectationOfDocument(expected));
  return {
    object: objectKey(ref),
    version: current.current_version,
    in_sync: inSync,
    changes: inSync ? [] : diffDocuments(expected, actual),
    expected: maskSecrets(expected),
    actual: maskSecrets(actual),
  };
}

/**
 * A head locked for longer than the timeout. A PENDING version is decided APPLIED or FAILED from
 * what GSE holds. A FAILED one whose stream record recovery never finished (given up after its
 * retries) is rolled back here, once, exactly as recovery would.
 */
export async function reconcilePending(deps: ReconcileDeps, head: HeadItem): Promise<"applied" | "failed" | "rolled_back" | "skipped"> {
  const ref = parseObjectKey(head.object);
  if (head.pending_version === undefined) return "skipped";
  const timeoutMs = deps.settings.pendingTimeoutSeconds * 1000;
  if (deps.now() - (head.pending_since ?? head.updated_at) < timeoutMs) return "skipped";
  const version = await deps.store.getVersion(ref, head.pending_version);
  if (version?.status === "FAILED" && deps.now() - (version.failed_at ?? 0) >= timeoutMs) {
    await undoVersion(deps, version);
    return "rolled_back";
  }
  if (version?.status !== "PENDING") return "skipped";
  // The same decision as config.decide's (decide.ts): this is the backstop for a job that was lost.
  return decidePending(deps, ref, version, `PENDING for over ${deps.settings.pendingTimeoutSeconds} s`);
}

const signatureOf = (changes: readonly FieldChange[]): string => createHash("sha256").update(JSON.stringify(changes)).digest("hex").slice(0, 16);

export type ReconcileOutcome = "in_sync" | "applied" | "failed" | "rolled_back" | "skipped" | "drifted" | "repaired";

/** One head: a stuck version decided, else drift alerted (once per distinct drift) and maybe repaired. */
export async function reconcileHead(deps: ReconcileDeps, head: HeadItem): Promise<ReconcileOutcome> {
  if (head.pending_version !== undefined) return reconcilePending(deps, head);
  const ref = parseObjectKey(head.object);
  const report = await checkDrift(deps, ref, head);
  if (!report || report.in_sync) return "in_sync";
  const signature = signatureOf(report.changes);
  // The drift is marked and its alert put in the outbox in one transaction: a crash before the publish loses no alert.
  const now = deps.now();
  const entry = {
    alert: { ...driftAlert(report, deps.settings.driftRepair, now), alert_id: `config.drift#${head.object}#${head.current_version}#${signature}#${now}` },
  };
  if (await deps.store.markDriftAlerted(ref, head.current_version, signature, now, entry)) {
    await deliver(deps.store.outbox, deps.alerts, entry, deps.now);
  }
  if (!deps.settings.driftRepair) return "drifted";
  const version = await deps.store.getVersion(ref, head.current_version);
  await converge(deps.gse, ref, version?.document ?? null, { platName: version?.document?.plat_name ?? "", operator: deps.operator });
  deps.logger.warn("config drift repaired", { object: head.object, version: head.current_version });
  return "repaired";
}

/**
 * Adds their process or recovery left behind, from one scan. One still PENDING belongs to a process
 * that died: it becomes FAILED with an unknown outcome, and recovery undoes it by its id if it gave
 * one, or raises the critical alert that asks a person to look (no read finds "the object we just
 * made"). One FAILED for longer than the timeout is rolled back here, as recovery would. Answers
 * how many were stuck PENDING.
 */
export async function reconcileStalePendingAdds(deps: ReconcileDeps): Promise<number> {
  const before = deps.now() - deps.settings.pendingTimeoutSeconds * 1000;
  let stuck = 0;
  for (const item of await deps.store.stalePendingAdds(before)) {
    if (item.status === "PENDING") {
      stuck += 1;
      // An add that gave its id can be looked up by it (recovery compares and restores); one whose
      // id GSE was to allocate cannot.
      const given = item.sk === "pending" ? undefined : parseObjectKey(item.object ?? "").id;
      await deps.store.failPendingAdd(
        { pk: item.pk, sk: item.sk },
        { message: `add PENDING for over ${deps.settings.pendingTimeoutSeconds} s; whether GSE made it is unknown`, kind: "stuck_pending", outcome: "unknown" },
        given,
        deps.now(),
      );
      continue;
    }
    // FAILED for longer than the timeout: its stream record recovery may have given up on (GSE unreachable meanwhile).
    if ((item.failed_at ?? item.created_at) >= before) continue;
    try {
      await undoPendingAdd(deps, item);
    } catch (error) {
      deps.logger.error("config reconcile could not finish a failed add", { pk: item.pk, sk: item.sk, error: storedError(error) });
    }
  }
  return stuck;
}

/** One scheduled pass over every head; one object's failure does not stop the others. */
export async function reconcileAll(deps: ReconcileDeps): Promise<Record<ReconcileOutcome | "errors" | "heads" | "stale_adds", number>> {
  const summary: Record<ReconcileOutcome | "errors" | "heads" | "stale_adds", number> = {
    heads: 0,
    in_sync: 0,
    applied: 0,
    failed: 0,
    rolled_back: 0,
    skipped: 0,
    drifted: 0,
    repaired: 0,
    errors: 0,
    stale_adds: 0,
  };
  summary.stale_adds = await reconcileStalePendingAdds(deps);
  for (const head of await deps.store.allHeads()) {
    summary.heads += 1;
    try {
      summary[await reconcileHead(deps, head)] += 1;
    } catch (error) {
      summary.errors += 1;
      deps.logger.error("config reconcile failed for one object", { object: head.object, error: storedError(error) });
    }
  }
  return summary;
}
