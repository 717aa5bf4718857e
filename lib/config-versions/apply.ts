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
import { ConfigNotAppliedError, type GseError, NotFoundError } from "../core/errors.ts";
import { applyConfigChange, type ConfigOperation } from "../gse/config-apply.ts";
import type { OperationRequest, OperationResponseData } from "../gse/operations.ts";
import { addConfig } from "./add.ts";
import { leftUnchanged, storedError, verify, type ChangeContext, type ConfigDeps } from "./change.ts";
import { converge } from "./converge.ts";
import { scheduleDecide } from "./decide.ts";
import {
  expectationOfDocument,
  expectationOfRequest,
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
import { ClaimLostError, conflict, underLock } from "./lock.ts";
import { ConcurrentChangeError, type AdoptedState, type HeadItem, type StoredError, type VersionItem } from "./store.ts";

// Callers outside the folder (handlers, APM, tests) reach the flow's shared pieces through here.
export { leftUnchanged, storedError, type ChangeContext, type ConfigDeps, type ConfigVersionSettings } from "./change.ts";
export { DEFAULT_LOCK_WAIT_MS, underLock } from "./lock.ts";

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
async function recordFailure(deps: ConfigDeps, failure: { ref: ObjectRef; version: number; error: StoredError; gseResponse?: unknown }): Promise<void> {
  const { ref, version, error, gseResponse } = failure;
  try {
    await deps.store.markFailed(ref, version, error, deps.now(), gseResponse);
  } catch (writeError) {
    deps.logger.error("could not mark a config version FAILED; the reconcile will decide it", {
      object: objectKey(ref),
      version,
      error: storedError(writeError),
    });
  }
}

/** The versioned part shared by GSE operations and whole documents: claim, apply, verify, commit. */
async function runVersion<T>(deps: ConfigDeps, plan: VersionPlan<T>): Promise<{ data: T; version: VersionItem }> {
  const { ref, head } = plan;
  const now = deps.now();
  const versionNumber = head ? head.latest_version + 1 : 1;
  let version: VersionItem;
  try {
    version = await deps.store.claim(
      ref,
      head,
      plan.previous,
      { ...plan.fields, version: versionNumber, parent_version: head?.current_version ?? 0, created_at: now },
      now,
    );
  } catch (error) {
    if (error instanceof ConcurrentChangeError) throw new ClaimLostError(error.message);
    throw error;
  }
  await scheduleDecide(deps, ref, version);
  const log = { object: objectKey(ref), version: versionNumber, operation: plan.fields.operation };
  let data: T;
  try {
    data = await plan.apply();
  } catch (error) {
    if (leftUnchanged(error)) {
      await recordRejection(deps, plan, versionNumber, error);
    } else {
      deps.logger.warn("config change failed at GSE", { ...log, error: storedError(error) });
      await recordFailure(deps, { ref, version: versionNumber, error: storedError(error) });
    }
    throw error;
  }
  const verified = await verify(deps, ref, plan);
  if (!verified.ok) {
    deps.logger.warn("config change not verified", { ...log, error: verified.error });
    await recordFailure(deps, { ref, version: versionNumber, error: verified.error, gseResponse: data ?? null });
    throw new ConfigNotAppliedError(`${verified.error.message}; the last good version is being restored`, { object: objectKey(ref), version: versionNumber });
  }
  await deps.beforeHeadMove?.(ref, versionNumber);
  await deps.store.markApplied(ref, versionNumber, data ?? null, deps.now());
  deps.logger.info("config change applied", log);
  return { data, version: { ...version, status: "APPLIED" } };
}

/** The document the head stands on: its current version's, or, for an object new to us, GSE's. */
async function startingPoint(
  deps: ConfigDeps,
  ref: ObjectRef,
  head: HeadItem | undefined,
  asker: { platName: string; operator: string },
): Promise<ConfigDocument> {
  if (head) return (await deps.store.getVersion(ref, head.current_version))?.document ?? null;
  return readObject(deps.gse, ref, asker.platName, asker.operator);
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
    const previous = await startingPoint(deps, ref, head, { platName, operator });
    // Changing or deleting what does not exist: nothing to version, GSE answers "not found" itself.
    if (previous === null) return applyConfigChange(deps.gse, name, body);
    const { data } = await runVersion(deps, {
      ref,
      head,
      previous,
      fields: {
        operation: name,
        request: body,
        document: nextDocument(name, body, previous),
        author: context.author,
        ...(context.idempotencyKey ? { idempotency_key: context.idempotencyKey } : {}),
        ...(context.deadlineAt !== undefined ? { deadline_at: context.deadlineAt } : {}),
      },
      apply: () => applyConfigChange(deps.gse, name, body),
      expectation: expectationOfRequest(name, body),
      platName,
      operator,
    });
    return data;
  });
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
  const version = await applyDocument(deps, ref, source.document, context, { operation: "rollback_to", request: { version: target }, source_version: target });
  deps.metrics?.add("ConfigRollbacks", 1);
  return version;
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
    const previous =
      options.basedOn !== undefined ? options.basedOn.document : await startingPoint(deps, ref, head, { platName: document?.plat_name ?? "", operator });
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
        ...(context.deadlineAt !== undefined ? { deadline_at: context.deadlineAt } : {}),
      },
      apply: () => converge(deps.gse, ref, document, { platName, operator }),
      expectation: expectationOfDocument(document),
      platName,
      operator,
    });
    return version;
  });
}
