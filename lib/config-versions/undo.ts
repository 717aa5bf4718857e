/**
 * Recovery's rule for the configs table, the automatic undo. ("Undo" is this; "rollback" is a
 * person's roll-back-to-version-N, apply.ts rollbackTo. The statuses, alert types and stored
 * fields an undo writes keep their published names: ROLLED_BACK, ROLLBACK_FAILED, rollback_error,
 * config.rolled_back, config.rollback_failed.) A version (or pending add) that turned FAILED is undone
 * by compare-and-restore (restore.ts): GSE is read first, and only what the failed change wrote
 * and GSE still holds goes back to the last good version. What GSE holds that neither version
 * wrote (another client's change, or the object gone) is left alone and recorded as the head
 * (an `adopt` version). The version ends ROLLED_BACK with one alert that says which of these
 * happened, or ROLLBACK_FAILED with one critical alert when the undo failed (GSE refused it, or
 * it cannot be done). GSE unreachable is not a failed undo: the pass is tried again (the stream,
 * then the scheduled reconcile), up to MAX_RECOVERY_ATTEMPTS. Every transition is conditional on
 * the status it leaves, so a re-delivered record does nothing twice, and nothing here writes a
 * new FAILED, so nothing can loop.
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import type { StreamRecord } from "../core/records.ts";
import { GseError } from "../core/errors.ts";
import type { GseClient } from "../gse/client.ts";
import type { RecoveryRule } from "../automation/recovery.ts";
import {
  ConcurrentChangeError,
  isPendingAddSk,
  pendingAddItemSchema,
  versionItemSchema,
  type AdoptedState,
  type ConfigStore,
  type PendingAddItem,
  type StoredError,
  type VersionItem,
} from "./store.ts";
import type { AlertPublisher } from "../core/alerts.ts";
import { deliver } from "../core/outbox.ts";
import type { MetricsRecorder } from "../core/metrics.ts";
import { CONFIG_ALERT_SOURCE, type ConfigAlert } from "./alerts.ts";
import { storedError } from "./change.ts";
import { CannotConvergeError, converge, PartialConvergeError } from "./converge.ts";
import { expectationOfDocument, meets, objectKey, parseObjectKey, readObject, type ConfigDocument, type ObjectRef } from "./documents.ts";
import { planRestore } from "./restore.ts";

/** Recovery passes that could not reach GSE before a failed version is given up as ROLLBACK_FAILED. */
export const MAX_RECOVERY_ATTEMPTS = 10;

export interface UndoDeps {
  readonly gse: GseClient;
  readonly store: ConfigStore;
  readonly alerts: AlertPublisher<ConfigAlert>;
  readonly logger: Logger;
  readonly now: () => number;
  /** operator_name on the GSE calls recovery makes. */
  readonly operator: string;
  readonly maxRecoveryAttempts?: number;
  /** ConfigUndos, by outcome; dropped when absent. */
  readonly metrics?: MetricsRecorder;
}

type UndoOutcome = { status: "ROLLED_BACK"; writes: number; adopted?: AdoptedState } | { status: "ROLLBACK_FAILED"; error: StoredError; writes?: number };

const FINISHED = new Set(["ROLLED_BACK", "ROLLBACK_FAILED"]);

/** An undo that can never succeed by trying again: GSE refused it, or it cannot be expressed. */
function definite(error: unknown): boolean {
  const cause = error instanceof PartialConvergeError ? error.cause : error;
  return cause instanceof CannotConvergeError || (cause instanceof GseError && cause.outcome === "rejected");
}

/**
 * Compare-and-restore of one object: `good` is the last good document, `written` the failed
 * change's. Reads GSE, undoes what is still ours, reads back. Throws when GSE cannot be reached.
 */
async function compareAndRestore(
  deps: UndoDeps,
  ref: ObjectRef,
  change: { good: ConfigDocument; written: ConfigDocument; afterVersion: number },
): Promise<UndoOutcome> {
  const { good, written, afterVersion } = change;
  // The platform the object was made under: an undo never writes with another one.
  const platName = good?.plat_name ?? written?.plat_name ?? "";
  const current = await readObject(deps.gse, ref, platName, deps.operator);
  const plan = planRestore(ref.kind, good, written, current);
  let writes = 0;
  if (plan.undo) {
    try {
      writes = (await converge(deps.gse, ref, plan.target, { platName, operator: deps.operator, current })).writes;
    } catch (error) {
      if (!definite(error)) throw error;
      return { status: "ROLLBACK_FAILED", error: storedError(error), ...(error instanceof PartialConvergeError ? { writes: error.writes } : {}) };
    }
  }
  const after = writes > 0 ? await readObject(deps.gse, ref, platName, deps.operator) : current;
  if (!plan.foreign) {
    if (meets(after, expectationOfDocument(plan.target))) return { status: "ROLLED_BACK", writes };
    return { status: "ROLLBACK_FAILED", writes, error: { message: "GSE does not hold the last good version after the rollback", kind: "verification" } };
  }
  return {
    status: "ROLLED_BACK",
    writes,
    adopted: { document: after, adoption: { after_version: afterVersion, reason: after === null ? "gone" : "changed_elsewhere" } },
  };
}

/** An undo pass; one that could not reach GSE is counted, and given up after the bound. */
async function bounded(deps: UndoDeps, key: { pk: string; sk: string }, run: () => Promise<UndoOutcome>): Promise<UndoOutcome> {
  try {
    return await run();
  } catch (error) {
    const attempts = await deps.store.countRecoveryAttempt(key, storedError(error), deps.now());
    const max = deps.maxRecoveryAttempts ?? MAX_RECOVERY_ATTEMPTS;
    deps.logger.warn("config rollback could not reach GSE", { pk: key.pk, sk: key.sk, attempt: attempts, of: max, error: storedError(error) });
    if (attempts < max) throw error;
    return {
      status: "ROLLBACK_FAILED",
      error: { message: `GSE could not be read or written in ${attempts} recovery passes: ${storedError(error).message}`, kind: "unreachable" },
    };
  }
}

const outcomeOf = (undone: UndoOutcome) => ({
  status: undone.status,
  ...(undone.status === "ROLLBACK_FAILED" ? { error: undone.error } : {}),
  ...(undone.writes !== undefined ? { writes: undone.writes } : {}),
});

interface Ended {
  readonly operation: string;
  readonly author: string;
  readonly status: string;
  readonly error?: StoredError | undefined;
  readonly rollback_error?: StoredError | undefined;
  readonly rollback_writes?: number | undefined;
  readonly adopted_version?: number | undefined;
}

/**
 * The one alert about a finished recovery, from what was recorded: undone (`config.rolled_back`),
 * GSE found holding someone else's state (`config.adopted`), or a person must look
 * (`config.rollback_failed`). `adopted`: the adopt version's document, when there is one.
 */
export function alertOf(
  item: Ended,
  about: { object: string; versions: { failed?: number; restored?: number }; adopted: { document: ConfigDocument } | undefined; at: number },
): ConfigAlert {
  const { object, versions, adopted, at } = about;
  const what = `${item.operation} of ${object}${versions.failed !== undefined ? ` (version ${versions.failed})` : ""}`;
  const common = {
    object,
    ...(versions.failed !== undefined ? { failed_version: versions.failed } : {}),
    operation: item.operation,
    author: item.author,
    ...(item.error ? { error: item.error } : {}),
    at: new Date(at).toISOString(),
    source: CONFIG_ALERT_SOURCE,
  };
  if (item.status === "ROLLBACK_FAILED") {
    return {
      ...common,
      type: "config.rollback_failed",
      severity: "critical",
      summary: `${what} failed and undoing it failed too: GSE's state is not known to be good; a person must check it (no further automatic attempt)`,
      ...(item.rollback_error ? { rollback_error: item.rollback_error } : {}),
    };
  }
  const undid = (item.rollback_writes ?? 0) > 0;
  if (item.adopted_version !== undefined || adopted !== undefined) {
    const held = adopted?.document === null ? "the object is gone from GSE" : "GSE holds what another client wrote";
    return {
      ...common,
      type: "config.adopted",
      severity: "warning",
      summary:
        `${what} failed, and ${held}: GSE was left as it is` +
        (item.adopted_version !== undefined ? ` and its state recorded as version ${item.adopted_version}` : "") +
        (undid ? "; what this change wrote and GSE still held was undone" : ""),
      ...(item.adopted_version !== undefined ? { adopted_version: item.adopted_version } : {}),
    };
  }
  return {
    ...common,
    type: "config.rolled_back",
    severity: "warning",
    summary: undid
      ? `${what} failed and was rolled back${versions.restored !== undefined ? ` to version ${versions.restored}` : ""}`
      : `${what} failed and did not take effect: GSE still holds ${versions.restored !== undefined ? `version ${versions.restored}` : "what it held before"}`,
    ...(versions.restored !== undefined ? { restored_version: versions.restored } : {}),
  };
}

/**
 * Sends the alert once: marked on the item and put in the outbox in one transaction, then
 * published. A crash or an SNS refusal after the transaction leaves it to the outbox sweep, which
 * sends it with the same alert_id (the version's key): never lost, and a copy is recognisable.
 */
async function alertOnce(deps: UndoDeps, key: { pk: string; sk: string }, alert: ConfigAlert): Promise<void> {
  const entry = { alert: { ...alert, alert_id: `config#${key.pk}#${key.sk}` } };
  if (!(await deps.store.markAlerted(key, deps.now(), entry))) return;
  await deliver(deps.store.outbox, deps.alerts, entry, deps.now);
  deps.logger.info("config alert sent", { type: alert.type, object: alert.object, version: alert.failed_version, alert_id: entry.alert.alert_id });
}

/** Rolls back one FAILED version (idempotent: a finished one only gets its alert, if still unsent). */
export async function undoVersion(deps: UndoDeps, failed: VersionItem): Promise<void> {
  const ref = parseObjectKey(failed.object);
  const key = { pk: failed.pk, sk: failed.sk };
  let item = (await deps.store.getVersion(ref, failed.version)) ?? failed;
  // The version it replaced: while it holds the head's lock, that is the last good one.
  const restored = item.parent_version ?? (await deps.store.getHead(ref))?.last_good_version ?? 0;
  if (item.status === "FAILED") {
    const good = (await deps.store.getVersion(ref, restored))?.document ?? null;
    const written = item.document;
    const undone = await bounded(deps, key, () => compareAndRestore(deps, ref, { good, written, afterVersion: failed.version }));
    deps.logger.info("config rollback", {
      object: failed.object,
      version: failed.version,
      restored_version: restored,
      status: undone.status,
      writes: undone.writes,
      adopted: undone.status === "ROLLED_BACK" && undone.adopted !== undefined,
    });
    try {
      await deps.store.finishUndo(ref, failed.version, outcomeOf(undone), deps.now(), undone.status === "ROLLED_BACK" ? undone.adopted : undefined);
      deps.metrics?.add("ConfigUndos", 1, { outcome: undone.status });
    } catch (error) {
      // Someone finished it first (a concurrent delivery): its alert is theirs to send.
      if (!(error instanceof ConcurrentChangeError)) throw error;
    }
    item = versionItemSchema.parse(await deps.store.getVersion(ref, failed.version));
  }
  if (!FINISHED.has(item.status) || item.alerted_at !== undefined) return;
  const adopted = item.adopted_version !== undefined ? await deps.store.getVersion(ref, item.adopted_version) : undefined;
  await alertOnce(deps, key, alertOf(item, { object: item.object, versions: { failed: item.version, restored }, adopted, at: deps.now() }));
}

/**
 * A failed add: undone where GSE still holds it and the id is known; another client's object
 * under that id is left alone and adopted. Without an id (GSE was to allocate it, the answer was
 * lost) nothing can find it: a person must look.
 */
export async function undoPendingAdd(deps: UndoDeps, failed: PendingAddItem): Promise<void> {
  const key = { pk: failed.pk, sk: failed.sk };
  let item = (await deps.store.getPendingAdd(key)) ?? failed;
  const kind = item.operation === "add_route" ? "route" : "streamto";
  const ref: ObjectRef | undefined = item.allocated_id !== undefined ? { kind, id: item.allocated_id } : undefined;
  let adopted: { document: ConfigDocument } | undefined;
  if (item.status === "FAILED") {
    let undone: UndoOutcome;
    let adoptedVersion: number | undefined;
    if (ref !== undefined) {
      const written = item.document;
      undone = await bounded(deps, key, () => compareAndRestore(deps, ref, { good: null, written, afterVersion: 0 }));
      if (undone.status === "ROLLED_BACK" && undone.adopted) {
        adopted = undone.adopted;
        const head = await deps.store.getHead(ref);
        const adoption = { ...undone.adopted.adoption, after_version: head?.current_version ?? 0 };
        adoptedVersion = await deps.store.adoptObserved(ref, head, { document: undone.adopted.document, adoption }, deps.now());
      }
    } else if (item.error?.outcome === "unknown") {
      undone = {
        status: "ROLLBACK_FAILED",
        error: { message: "GSE may have made the object under an id it never told us; look for it by name", kind: "unknowable" },
      };
    } else {
      // GSE refused it or never got it (recorded before REJECTED existed): nothing to undo.
      undone = { status: "ROLLED_BACK", writes: 0 };
    }
    // Counted by the pass that finished it: a concurrent one (the stream and the reconcile) finds it done.
    if (await deps.store.finishPendingAddUndo(key, outcomeOf(undone), deps.now(), adoptedVersion))
      deps.metrics?.add("ConfigUndos", 1, { outcome: undone.status });
    item = (await deps.store.getPendingAdd(key)) ?? item;
  }
  if (!FINISHED.has(item.status) || item.alerted_at !== undefined) return;
  const object = ref ? objectKey(ref) : `${kind}#(not allocated)`;
  // This pass's adoption, or (the alert sent again after SNS refused it) the one recorded then.
  adopted ??= item.adopted_version !== undefined && ref ? await deps.store.getVersion(ref, item.adopted_version) : undefined;
  await alertOnce(deps, key, alertOf(item, { object, versions: {}, adopted, at: deps.now() }));
}

/** The recovery rule for configs stream records: acts on transitions into FAILED only. */
export function configRecoveryRule(deps: UndoDeps): RecoveryRule {
  return async function recoverConfigRecord(record: StreamRecord) {
    const { NewImage: item, OldImage: old } = record.dynamodb;
    if (!item) return;
    if (item.status !== "FAILED" || old?.status === "FAILED") return;
    if (typeof item.sk === "string" && item.sk.startsWith("v#")) await undoVersion(deps, versionItemSchema.parse(item));
    else if (isPendingAddSk(item.sk)) await undoPendingAdd(deps, pendingAddItemSchema.parse(item));
  };
}
