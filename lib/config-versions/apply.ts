/**
 * The versioned configuration change: every add/update/delete of a stream_to or route becomes a
 * version. Wait for the object's head to be free (bounded) → write PENDING and lock the head →
 * call GSE → read the object back and compare what was sent → APPLIED and head moved, in one
 * transaction conditioned on the lock.
 *
 * What GSE's answer means decides what is recorded (a control plane tells the truth):
 * - GSE refused the write (a business error), or it never reached GSE (429, connection refused):
 *   nothing changed in GSE. The version is REJECTED and the head released in one write; no
 *   undo, no alert. The caller gets GSE's error, as from GSE itself.
 * - GSE took it but it does not read back, it took part of it, or the outcome is unknown: FAILED,
 *   head still locked; recovery (undo.ts) undoes what is still ours in GSE and alerts.
 * An add that gives its own id (add_route with channel_id) is recorded beside the object, not as
 * its version, until GSE has taken it: a refused add (the id is taken) never touches the object.
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import { setTimeout as sleepTimer } from "node:timers/promises";
import { ConfigNotAppliedError, ConflictError, GseError, NotFoundError } from "../core/errors.ts";
import type { GseClient } from "../gse/client.ts";
import { applyConfigChange, type ConfigOperation } from "../gse/config-apply.ts";
import { OPERATIONS, type OperationName, type OperationRequest, type OperationResponseData } from "../gse/operations.ts";
import {
  ConcurrentChangeError,
  pendingAddKey,
  type AdoptedState,
  type ConfigStore,
  type HeadItem,
  type PendingAddItem,
  type PendingAddKey,
  type StoredError,
  type VersionItem,
} from "./store.ts";
import { converge } from "./converge.ts";
import {
  allocatedObject,
  expectationOfDocument,
  expectationOfRequest,
  meets,
  nextDocument,
  objectKey,
  objectOf,
  operatorOf,
  platNameOf,
  readObject,
  type ConfigDocument,
  type Expectation,
  type ObjectRef,
} from "./documents.ts";

/** CONFIG_LOCK_WAIT_MS's default: a few seconds, well under API Gateway's 30 s. */
export const DEFAULT_LOCK_WAIT_MS = 5_000;
/** Waiting for a head: full jitter over a capped exponential, so waiters do not poll in step. */
const LOCK_POLL_MIN_MS = 20;
const LOCK_POLL_MAX_MS = 250;

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
}

/** Who asked: bk_username from the caller's header when given, else GSE's operator_name. */
export interface ChangeContext {
  readonly author: string;
  readonly idempotencyKey?: string;
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

async function conflict(deps: ConfigDeps, ref: ObjectRef): Promise<ConflictError> {
  const head = await deps.store.getHead(ref);
  return new ConflictError(`${objectKey(ref)} is being changed by another request; read it and try again`, {
    object: objectKey(ref),
    current_version: head?.current_version ?? null,
    pending_version: head?.pending_version ?? null,
  });
}

/** The claim lost to another change between reading the head and writing: read it again. */
class ClaimLostError extends Error {}

/**
 * Runs `attempt` on the object's head once no other change holds it, waiting up to the lock wait;
 * then 409. Concurrent changes of one object so go one after another, each on the head the one
 * before left: no lost update, no second version with the same parent.
 */
export async function underLock<T>(deps: ConfigDeps, ref: ObjectRef, attempt: (head: HeadItem | undefined) => Promise<T>): Promise<T> {
  const deadline = deps.now() + (deps.settings.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS);
  const sleep = deps.sleep ?? ((ms: number) => sleepTimer(ms));
  const random = deps.random ?? Math.random;
  for (let round = 0; ; round++) {
    const head = await deps.store.getHead(ref);
    if (head?.pending_version === undefined) {
      try {
        return await attempt(head);
      } catch (error) {
        if (!(error instanceof ClaimLostError)) throw error;
      }
    }
    const left = deadline - deps.now();
    if (left <= 0) throw await conflict(deps, ref);
    const cap = Math.min(LOCK_POLL_MAX_MS, LOCK_POLL_MIN_MS * 2 ** round);
    await sleep(Math.min(left, LOCK_POLL_MIN_MS + Math.floor(random() * cap)));
  }
}

/** Reads the object back and tells whether it meets `expectation`; a failed read counts as not met. */
async function verify(deps: ConfigDeps, ref: ObjectRef, platName: string, operator: string, expectation: Expectation): Promise<{ ok: true } | { ok: false; error: StoredError }> {
  try {
    const current = await readObject(deps.gse, ref, platName, operator);
    if (meets(current, expectation)) return { ok: true };
    return { ok: false, error: { message: `verification failed: GSE does not hold what was sent to ${objectKey(ref)}`, kind: "verification" } };
  } catch (error) {
    return { ok: false, error: { ...storedError(error), message: `verification failed: reading ${objectKey(ref)} back: ${storedError(error).message}` } };
  }
}

/** One change of a known object, as runVersion takes it. */
interface VersionPlan<T> {
  readonly ref: ObjectRef;
  readonly head: HeadItem | undefined;
  /** The document the change starts from (the head's, or GSE's on first sight). */
  readonly previous: ConfigDocument;
  readonly fields: Omit<VersionItem, "pk" | "sk" | "object" | "status" | "version" | "parent_version" | "created_at">;
  readonly apply: () => Promise<T>;
  readonly expectation: Expectation;
  /** The platform GSE is asked with: the request's for its own write, the object's for reads of it. */
  readonly platName: string;
  readonly operator: string;
}

/**
 * GSE refused the change: REJECTED, head released. When GSE said "not found" and the object really
 * is gone (read with the platform it was created under, not the request's), history says so too.
 */
async function recordRejection(deps: ConfigDeps, plan: VersionPlan<unknown>, version: number, error: GseError): Promise<void> {
  let adopted: AdoptedState | undefined;
  if (error.notFound && plan.previous !== null) {
    try {
      const held = await readObject(deps.gse, plan.ref, plan.previous.plat_name, plan.operator);
      if (held === null) adopted = { document: null, adoption: { after_version: version, reason: "gone" } };
    } catch {
      // Unknown: nothing adopted; the drift check compares the head with GSE later.
    }
  }
  const log = { object: objectKey(plan.ref), version, operation: plan.fields.operation, error: storedError(error) };
  try {
    await deps.store.markRejected(plan.ref, version, storedError(error), deps.now(), adopted);
  } catch (writeError) {
    // The caller still gets GSE's own error; the version stays PENDING until the reconcile decides it.
    deps.logger.error("could not mark a config version REJECTED; the reconcile will decide it", { ...log, write_error: storedError(writeError) });
    return;
  }
  deps.logger.info("config change refused by GSE: nothing changed", { ...log, ...(adopted ? { adopted: "gone" } : {}) });
}

/**
 * Marks the version FAILED. If even that write fails, the caller still gets GSE's own error: the
 * version stays PENDING and the scheduled reconcile decides it from GSE later.
 */
async function recordFailure(deps: ConfigDeps, ref: ObjectRef, version: number, error: StoredError, gseResponse?: unknown): Promise<void> {
  try {
    await deps.store.markFailed(ref, version, error, deps.now(), gseResponse);
  } catch (writeError) {
    deps.logger.error("could not mark a config version FAILED; the reconcile will decide it", { object: objectKey(ref), version, error: storedError(writeError) });
  }
}

/** The versioned part shared by GSE operations and whole documents: claim, apply, verify, commit. */
async function runVersion<T>(deps: ConfigDeps, plan: VersionPlan<T>): Promise<{ data: T; version: VersionItem }> {
  const { ref, head } = plan;
  const now = deps.now();
  const versionNumber = head ? head.latest_version + 1 : 1;
  let version: VersionItem;
  try {
    version = await deps.store.claim(ref, head, plan.previous, { ...plan.fields, version: versionNumber, parent_version: head?.current_version ?? 0, created_at: now }, now);
  } catch (error) {
    if (error instanceof ConcurrentChangeError) throw new ClaimLostError(error.message);
    throw error;
  }
  const log = { object: objectKey(ref), version: versionNumber, operation: plan.fields.operation };
  let data: T;
  try {
    data = await plan.apply();
  } catch (error) {
    if (leftUnchanged(error)) {
      await recordRejection(deps, plan, versionNumber, error);
    } else {
      deps.logger.warn("config change failed at GSE", { ...log, error: storedError(error) });
      await recordFailure(deps, ref, versionNumber, storedError(error));
    }
    throw error;
  }
  const verified = await verify(deps, ref, plan.platName, plan.operator, plan.expectation);
  if (!verified.ok) {
    deps.logger.warn("config change not verified", { ...log, error: verified.error });
    await recordFailure(deps, ref, versionNumber, verified.error, data ?? null);
    throw new ConfigNotAppliedError(`${verified.error.message}; the last good version is being restored`, { object: objectKey(ref), version: versionNumber });
  }
  await deps.beforeHeadMove?.(ref, versionNumber);
  await deps.store.markApplied(ref, versionNumber, data ?? null, deps.now());
  deps.logger.info("config change applied", log);
  return { data, version: { ...version, status: "APPLIED" } };
}

/** The document the head stands on: its current version's, or, for an object new to us, GSE's. */
async function startingPoint(deps: ConfigDeps, ref: ObjectRef, head: HeadItem | undefined, platName: string, operator: string): Promise<ConfigDocument> {
  if (head) return (await deps.store.getVersion(ref, head.current_version))?.document ?? null;
  return readObject(deps.gse, ref, platName, operator);
}

/**
 * One GSE configuration change, versioned. Answers GSE's `data` as GSE would; GSE's own errors are
 * rethrown unchanged (the handler passes them through in GSE's envelope).
 */
export async function changeConfig<N extends ConfigOperation>(
  deps: ConfigDeps,
  name: N,
  body: OperationRequest<N>,
  context: ChangeContext,
): Promise<OperationResponseData<N>> {
  if (name === "add_streamto" || name === "add_route") return addConfig(deps, name, body, context) as Promise<OperationResponseData<N>>;
  const ref = objectOf(name, body) as ObjectRef;
  const platName = platNameOf(name, body);
  const operator = operatorOf(body);
  return underLock(deps, ref, async (head) => {
    const previous = await startingPoint(deps, ref, head, platName, operator);
    // Changing or deleting what does not exist: nothing to version, GSE answers "not found" itself.
    if (previous === null) return applyConfigChange(deps.gse, name, body);
    const { data } = await runVersion(deps, {
      ref,
      head,
      previous,
      fields: { operation: name, request: body, document: nextDocument(name, body, previous), author: context.author, ...(context.idempotencyKey ? { idempotency_key: context.idempotencyKey } : {}) },
      apply: () => applyConfigChange(deps.gse, name, body),
      expectation: expectationOfRequest(name, body),
      platName,
      operator,
    });
    return data;
  });
}

/**
 * An add: recorded as a pending add until GSE has taken it (and, when GSE allocates the id, told
 * it), then, verified, as the object's version: version 1 of a new object, or the next version of
 * one we knew (deleted since, its id in use again). GSE refusing it, or never getting it: the
 * pending add is REJECTED and no object is touched. A failure after GSE may have taken it leaves
 * the pending add FAILED, which recovery undoes like any failed version.
 */
async function addConfig(deps: ConfigDeps, name: "add_streamto" | "add_route", body: unknown, context: ChangeContext): Promise<unknown> {
  const given = objectOf(name, body);
  const key = pendingAddKey(deps.newId(), given);
  const document = nextDocument(name, body, null);
  const pending = await deps.store.putPendingAdd(
    key,
    {
      operation: name,
      request: body,
      document,
      author: context.author,
      created_at: deps.now(),
      ...(given ? { object: objectKey(given) } : {}),
      ...(context.idempotencyKey ? { idempotency_key: context.idempotencyKey } : {}),
    },
    deps.settings.pendingAddTtlSeconds,
  );
  let data: unknown;
  try {
    data = await applyConfigChange(deps.gse, name, body as OperationRequest<typeof name>);
  } catch (error) {
    await endAttempt(deps, key, given, error);
    throw error;
  }
  const ref = given ?? allocatedObject(name, data);
  const verified = await verify(deps, ref, platNameOf(name, body), operatorOf(body), expectationOfRequest(name, body));
  if (!verified.ok) {
    await deps.store.failPendingAdd(key, verified.error, ref.id, deps.now());
    throw new ConfigNotAppliedError(`${verified.error.message}; the add is being undone`, { object: objectKey(ref) });
  }
  await recordAdd(deps, key, pending, ref, data);
  return data;
}

/** A pending add whose GSE call failed: REJECTED when GSE is as it was, FAILED (for recovery) otherwise. */
async function endAttempt(deps: ConfigDeps, key: PendingAddKey, given: ObjectRef | undefined, error: unknown): Promise<void> {
  const log = { object: given ? objectKey(given) : "(id to be allocated)", error: storedError(error) };
  try {
    if (leftUnchanged(error)) {
      await deps.store.rejectPendingAdd(key, storedError(error), deps.now());
      deps.logger.info("config add refused by GSE: nothing changed", log);
    } else {
      await deps.store.failPendingAdd(key, storedError(error), given?.id, deps.now());
      deps.logger.warn("config add failed at GSE", log);
    }
  } catch (writeError) {
    // GSE's error still goes to the caller; the reconcile finds the add PENDING and decides it.
    deps.logger.error("could not record how a config add ended", { ...log, write_error: storedError(writeError) });
  }
}

/** GSE holds the add: it becomes the object's version, once no other change of the object holds its head. */
async function recordAdd(deps: ConfigDeps, key: PendingAddKey, pending: PendingAddItem, ref: ObjectRef, data: unknown): Promise<void> {
  try {
    await deps.store.completePendingAdd(key, pending, ref, data, deps.now());
    return;
  } catch (error) {
    if (!(error instanceof ConcurrentChangeError)) throw error;
  }
  try {
    await underLock(deps, ref, async (head) => {
      if (!head) throw new ConcurrentChangeError(objectKey(ref));
      try {
        await deps.store.appendAllocatedAdd(key, pending, ref, head, data, deps.now());
      } catch (error) {
        if (error instanceof ConcurrentChangeError) throw new ClaimLostError(error.message);
        throw error;
      }
    });
  } catch (error) {
    // GSE holds the add all the same: the answer stands, the drift check shows the history is behind.
    deps.logger.error("could not record an add under its object", { object: objectKey(ref), pending: key.sk === "pending" ? key.pk : key.sk, error: storedError(error) });
  }
}

/**
 * Roll back to version N: a new version whose document is N's, through the same claim → apply →
 * verify → commit as any change. Answers the new version.
 */
export async function rollbackTo(deps: ConfigDeps, ref: ObjectRef, target: number, context: ChangeContext): Promise<VersionItem> {
  const head = await deps.store.getHead(ref);
  if (!head) throw new NotFoundError(`${objectKey(ref)} has no versions: it was never changed through gse-control`);
  const source = await deps.store.getVersion(ref, target);
  if (!source) throw new NotFoundError(`${objectKey(ref)} has no version ${target}`);
  return applyDocument(deps, ref, source.document, context, { operation: "rollback_to", request: { version: target }, source_version: target });
}

/**
 * A whole document as the object's next version (an APM datasource's route, a roll-back-to-N):
 * claim → bring GSE to it by reading and sending only the difference → verify → commit. With
 * `basedOn` the caller says which version and document it computed from (read just before): if
 * the object moved since, 409; otherwise that document is the one replaced, not read again.
 */
export async function applyDocument(
  deps: ConfigDeps,
  ref: ObjectRef,
  document: ConfigDocument,
  context: ChangeContext,
  options: { operation: string; request?: unknown; source_version?: number; basedOn?: { version: number; document: ConfigDocument } },
): Promise<VersionItem> {
  const operator = context.author;
  return underLock(deps, ref, async (head) => {
    if (options.basedOn !== undefined && (head?.current_version ?? 0) !== options.basedOn.version) throw await conflict(deps, ref);
    const previous = options.basedOn !== undefined ? options.basedOn.document : await startingPoint(deps, ref, head, document?.plat_name ?? "", operator);
    // The platform the object was made under; a document never moves it to another.
    const platName = previous?.plat_name ?? document?.plat_name ?? "";
    const { version } = await runVersion(deps, {
      ref,
      head,
      previous,
      fields: {
        operation: options.operation,
        ...(options.request !== undefined ? { request: options.request } : {}),
        document,
        author: context.author,
        ...(options.source_version !== undefined ? { source_version: options.source_version } : {}),
        ...(context.idempotencyKey ? { idempotency_key: context.idempotencyKey } : {}),
      },
      apply: () => converge(deps.gse, ref, document, { platName, operator }),
      expectation: expectationOfDocument(document),
      platName,
      operator,
    });
    return version;
  });
}
