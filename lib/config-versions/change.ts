/**
 * What every versioned change shares: its dependencies, who asked, how a GSE error is recorded
 * and told apart (did GSE stay as it was?), and the read-back that decides whether a write took.
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import { GseError } from "../core/errors.ts";
import type { MetricsRecorder } from "../core/metrics.ts";
import type { QueueSender } from "../core/queue.ts";
import type { GseClient } from "../gse/client.ts";
import { OPERATIONS, type OperationName } from "../gse/operations.ts";
import { meets, objectKey, readObject, type Expectation, type ObjectRef } from "./documents.ts";
import type { ConfigStore, StoredError } from "./store.ts";

export interface ConfigVersionSettings {
  /** How long a pending-add record is kept after its add (it holds the request and GSE's answer). */
  readonly pendingAddTtlSeconds: number;
  /** How long a change waits for another change of the same object to finish before 409. */
  readonly lockWaitMs?: number;
}

/** Everything the flow needs, passed in so tests control GSE, the table, the clock and ids. */
export interface ConfigDeps {
  readonly gse: GseClient;
  readonly store: ConfigStore;
  readonly logger: Logger;
  readonly now: () => number;
  readonly newId: () => string;
  readonly settings: ConfigVersionSettings;
  /** Waiting for a locked head; tests pass their own. */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  /** Test seam: runs between GSE's success and the head move (a process dying there). */
  readonly beforeHeadMove?: (ref: ObjectRef, version: number) => Promise<void>;
  /** ConfigRollbacks; dropped when absent. */
  readonly metrics?: MetricsRecorder;
  /** Where a version's config.decide job goes (lib/config-versions/decide.ts); without it only the reconcile decides. */
  readonly decide?: DecideSettings;
}

export interface DecideSettings {
  readonly queue: QueueSender;
  /** CONFIG_PENDING_DECIDE_SECONDS: how long after the claim the job first looks. */
  readonly delaySeconds: number;
  /** The GSE operator the job reads as. */
  readonly operator: string;
}

/** Who asked: bk_username from the caller's header when given, else GSE's operator_name. */
export interface ChangeContext {
  readonly author: string;
  readonly idempotencyKey?: string;
  /** The request's deadline (epoch ms): recorded on the version so config.decide knows when the request is over. */
  readonly deadlineAt?: number;
}

export function storedError(error: unknown): StoredError {
  if (error instanceof GseError) {
    return { message: error.message, kind: error.kind, outcome: error.outcome, ...(error.gseCode !== undefined ? { gse_code: error.gseCode } : {}) };
  }
  return { message: error instanceof Error ? error.message : String(error), kind: error instanceof Error ? error.name : "unknown" };
}

/**
 * Whether a failed write left GSE as it was: GSE refused it, it never reached GSE, or what failed
 * was a read made before anything was written (a write's unknown outcome is never reported as a
 * read's error: applyConfigChange rethrows the write's own).
 */
export function leftUnchanged(error: unknown): error is GseError {
  if (!(error instanceof GseError)) return false;
  if (error.outcome === "rejected" || error.outcome === "not_sent") return true;
  return OPERATIONS[error.operation as OperationName]?.kind === "read";
}

/** Reads the object back and tells whether it meets `expectation`; a failed read counts as not met. */
export async function verify(
  deps: ConfigDeps,
  ref: ObjectRef,
  read: { platName: string; operator: string; expectation: Expectation },
): Promise<{ ok: true } | { ok: false; error: StoredError }> {
  try {
    const current = await readObject(deps.gse, ref, read.platName, read.operator);
    if (meets(current, read.expectation)) return { ok: true };
    return { ok: false, error: { message: `verification failed: GSE does not hold what was sent to ${objectKey(ref)}`, kind: "verification" } };
  } catch (error) {
    return { ok: false, error: { ...storedError(error), message: `verification failed: reading ${objectKey(ref)} back: ${storedError(error).message}` } };
  }
}
