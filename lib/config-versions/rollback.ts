/**
 * Recovery's rule for the configs table: a version that turned FAILED is rolled back. The last
 * good version is re-applied to GSE (or the object deleted when there was none), read back, and
 * the version marked ROLLED_BACK; a rollback that fails is marked ROLLBACK_FAILED with a critical
 * alert and never tried again (nothing here writes a new FAILED, so nothing can loop). Every
 * transition is conditional on the status it leaves, so a re-delivered record does nothing twice.
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import type { DynamoDBRecord } from "aws-lambda";
import type { GseClient } from "../gse/client.ts";
import type { RecoveryRule } from "../recovery.ts";
import {
  ConcurrentChangeError,
  pendingAddItemSchema,
  versionItemSchema,
  type ConfigStore,
  type PendingAddItem,
  type StoredError,
  type VersionItem,
} from "../store/configs.ts";
import type { AlertPublisher, ConfigAlert } from "./alerts.ts";
import { storedError } from "./apply.ts";
import { converge } from "./converge.ts";
import { allocatedObject, expectationOfDocument, meets, parseObjectKey, readObject, type ConfigDocument, type ObjectRef } from "./documents.ts";

export interface RollbackDeps {
  readonly gse: GseClient;
  readonly store: ConfigStore;
  readonly alerts: AlertPublisher;
  readonly logger: Logger;
  readonly now: () => number;
  /** operator_name on the GSE calls recovery makes. */
  readonly operator: string;
}

type Outcome = { status: "ROLLED_BACK" | "ROLLBACK_FAILED"; error?: StoredError };

const FINISHED = new Set(["ROLLED_BACK", "ROLLBACK_FAILED"]);

/** Re-applies `target` and reads it back; the outcome to record. */
async function restore(deps: RollbackDeps, ref: ObjectRef, target: ConfigDocument, platName: string): Promise<Outcome> {
  try {
    await converge(deps.gse, ref, target, { platName, operator: deps.operator });
    const current = await readObject(deps.gse, ref, platName, deps.operator);
    if (meets(current, expectationOfDocument(target))) return { status: "ROLLED_BACK" };
    return { status: "ROLLBACK_FAILED", error: { message: "GSE does not hold the last good version after the rollback", kind: "verification" } };
  } catch (error) {
    return { status: "ROLLBACK_FAILED", error: storedError(error) };
  }
}

function alertOf(item: { object?: string | undefined; operation: string; author: string; error?: StoredError | undefined }, failed: number | undefined, restored: number | undefined, outcome: Outcome, object: string, at: number): ConfigAlert {
  const ok = outcome.status === "ROLLED_BACK";
  return {
    type: ok ? "config.rolled_back" : "config.rollback_failed",
    severity: ok ? "warning" : "critical",
    object,
    summary: ok
      ? `${item.operation} of ${object}${failed !== undefined ? ` (version ${failed})` : ""} failed and was rolled back${restored !== undefined ? ` to version ${restored}` : ""}`
      : `${item.operation} of ${object} failed and the rollback failed too: GSE's state is not known to be good; a person must check it (no further automatic attempt)`,
    ...(failed !== undefined ? { failed_version: failed } : {}),
    ...(restored !== undefined ? { restored_version: restored } : {}),
    operation: item.operation,
    author: item.author,
    ...(item.error ? { error: item.error } : {}),
    ...(outcome.error ? { rollback_error: outcome.error } : {}),
    at: new Date(at).toISOString(),
  };
}

/** Sends the alert once: claimed on the item first, released again if SNS refuses. */
async function alertOnce(deps: RollbackDeps, key: { pk: string; sk: string }, alert: ConfigAlert): Promise<void> {
  if (!(await deps.store.markAlerted(key, deps.now()))) return;
  try {
    await deps.alerts.publish(alert);
  } catch (error) {
    await deps.store.releaseAlerted(key);
    throw error;
  }
  deps.logger.info("config alert sent", { type: alert.type, object: alert.object, version: alert.failed_version });
}

/** Rolls back one FAILED version (idempotent: a finished one only gets its alert, if still unsent). */
export async function rollbackVersion(deps: RollbackDeps, failed: VersionItem): Promise<void> {
  const ref = parseObjectKey(failed.object);
  const key = { pk: failed.pk, sk: failed.sk };
  const head = await deps.store.getHead(ref);
  let current = { head, item: (await deps.store.getVersion(ref, failed.version)) ?? failed };
  const restoredVersion = head?.last_good_version ?? 0;
  if (current.item.status === "FAILED") {
    const target = (await deps.store.getVersion(ref, restoredVersion))?.document ?? null;
    const platName = target?.plat_name ?? failed.document?.plat_name ?? "";
    const outcome = await restore(deps, ref, target, platName);
    deps.logger.info("config rollback", { object: failed.object, version: failed.version, restored_version: restoredVersion, status: outcome.status });
    try {
      await deps.store.finishRollback(ref, failed.version, outcome, deps.now());
    } catch (error) {
      // Someone finished it first (a concurrent delivery): its alert is theirs to send.
      if (!(error instanceof ConcurrentChangeError)) throw error;
    }
    current = { head, item: versionItemSchema.parse(await deps.store.getVersion(ref, failed.version)) };
  }
  const { item } = current;
  if (!FINISHED.has(item.status) || item.alerted_at !== undefined) return;
  const outcome: Outcome = { status: item.status as Outcome["status"], ...(item.rollback_error ? { error: item.rollback_error } : {}) };
  await alertOnce(deps, key, alertOf(item, item.version, outcome.status === "ROLLED_BACK" ? restoredVersion : undefined, outcome, item.object, deps.now()));
}

/** A failed add whose id GSE allocated: undo it if GSE gave the id; otherwise say what is known. */
export async function rollbackPendingAdd(deps: RollbackDeps, failed: PendingAddItem): Promise<void> {
  const id = failed.pk.slice("cfg#pending-add#".length);
  let item = (await deps.store.getPendingAdd(id)) ?? failed;
  if (item.status === "FAILED") {
    let outcome: Outcome;
    if (item.allocated_id !== undefined) {
      const ref = allocatedObject(item.operation, item.operation === "add_route" ? { channel_id: item.allocated_id } : { stream_to_id: item.allocated_id });
      outcome = await restore(deps, ref, null, item.document?.plat_name ?? "");
    } else if (item.error?.outcome === "unknown") {
      outcome = { status: "ROLLBACK_FAILED", error: { message: "GSE may have made the object under an id it never told us; look for it by name", kind: "unknowable" } };
    } else {
      // GSE refused it or never got it: nothing to undo.
      outcome = { status: "ROLLED_BACK" };
    }
    await deps.store.finishPendingAddRollback(id, outcome, deps.now());
    item = (await deps.store.getPendingAdd(id)) ?? item;
  }
  if (!FINISHED.has(item.status) || item.alerted_at !== undefined) return;
  const object = item.allocated_id !== undefined ? `${item.operation === "add_route" ? "route" : "streamto"}#${item.allocated_id}` : `${item.operation === "add_route" ? "route" : "streamto"}#(not allocated)`;
  const outcome: Outcome = { status: item.status as Outcome["status"], ...(item.rollback_error ? { error: item.rollback_error } : {}) };
  await alertOnce(deps, { pk: item.pk, sk: item.sk }, alertOf(item, undefined, undefined, outcome, object, deps.now()));
}

/** The recovery rule for configs stream records: acts on transitions into FAILED only. */
export function configRecoveryRule(deps: RollbackDeps): RecoveryRule {
  return async function recoverConfigRecord(record: DynamoDBRecord) {
    const image = record.dynamodb?.NewImage;
    if (!image) return;
    const item = unmarshall(image as Parameters<typeof unmarshall>[0]);
    const old = record.dynamodb?.OldImage ? unmarshall(record.dynamodb.OldImage as Parameters<typeof unmarshall>[0]) : undefined;
    if (item.status !== "FAILED" || old?.status === "FAILED") return;
    if (typeof item.sk === "string" && item.sk.startsWith("v#")) await rollbackVersion(deps, versionItemSchema.parse(item));
    else if (item.sk === "pending") await rollbackPendingAdd(deps, pendingAddItemSchema.parse(item));
  };
}
