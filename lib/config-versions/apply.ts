/**
 * The versioned configuration change (issue 5): every add/update/delete of a stream_to or route
 * becomes a version. Write PENDING and lock the head → call GSE → read the object back and
 * compare what was sent → APPLIED and head moved, in one transaction conditioned on the lock.
 * Any failure leaves the version FAILED with the head still locked; recovery (rollback.ts)
 * restores the last good version from the stream record of that transition and unlocks.
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import { ConfigNotAppliedError, ConflictError, GseError, NotFoundError } from "../errors.ts";
import type { GseClient } from "../gse/client.ts";
import { applyConfigChange, type ConfigOperation } from "../gse/config-apply.ts";
import type { OperationRequest, OperationResponseData } from "../gse/operations.ts";
import { ConcurrentChangeError, type ConfigStore, type HeadItem, type StoredError, type VersionItem } from "../store/configs.ts";
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

export interface ConfigVersionSettings {
  /** How long a pending-add record is kept after its add (it holds the request and GSE's answer). */
  readonly pendingAddTtlSeconds: number;
}

/** Everything the flow needs, passed in so tests control GSE, the table, the clock and ids. */
export interface ConfigDeps {
  readonly gse: GseClient;
  readonly store: ConfigStore;
  readonly logger: Logger;
  readonly now: () => number;
  readonly newId: () => string;
  readonly settings: ConfigVersionSettings;
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

async function conflict(deps: ConfigDeps, ref: ObjectRef): Promise<ConflictError> {
  const head = await deps.store.getHead(ref);
  return new ConflictError(`${objectKey(ref)} is being changed by another request; read it and try again`, {
    object: objectKey(ref),
    current_version: head?.current_version ?? null,
    pending_version: head?.pending_version ?? null,
  });
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

/** The versioned part shared by GSE operations and roll-back-to-N: claim, apply, verify, commit. */
async function runVersion<T>(
  deps: ConfigDeps,
  ref: ObjectRef,
  head: HeadItem | undefined,
  adopted: ConfigDocument,
  fields: Omit<VersionItem, "pk" | "sk" | "object" | "status" | "version" | "parent_version" | "created_at">,
  apply: () => Promise<T>,
  expectation: Expectation,
  platName: string,
  operator: string,
): Promise<{ data: T; version: VersionItem }> {
  const now = deps.now();
  const versionNumber = head ? head.latest_version + 1 : 1;
  let version: VersionItem;
  try {
    version = await deps.store.claim(ref, head, adopted, { ...fields, version: versionNumber, parent_version: head?.current_version ?? 0, created_at: now }, now);
  } catch (error) {
    if (error instanceof ConcurrentChangeError) throw await conflict(deps, ref);
    throw error;
  }
  const log = { object: objectKey(ref), version: versionNumber, operation: fields.operation };
  let data: T;
  try {
    data = await apply();
  } catch (error) {
    deps.logger.warn("config change failed at GSE", { ...log, error: storedError(error) });
    await recordFailure(deps, ref, versionNumber, storedError(error));
    throw error;
  }
  const verified = await verify(deps, ref, platName, operator, expectation);
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
  const ref = objectOf(name, body);
  if (ref === undefined) return addWithAllocatedId(deps, name as "add_streamto" | "add_route", body, context) as Promise<OperationResponseData<N>>;

  const platName = platNameOf(name, body);
  const operator = operatorOf(body);
  const head = await deps.store.getHead(ref);
  if (head?.pending_version !== undefined) throw await conflict(deps, ref);

  let previous: ConfigDocument;
  if (head) {
    const current = await deps.store.getVersion(ref, head.current_version);
    previous = current?.document ?? null;
  } else {
    previous = await readObject(deps.gse, ref, platName, operator);
  }
  // Changing or deleting what does not exist: nothing to version, GSE answers "not found" itself.
  if (previous === null && !name.startsWith("add_")) return applyConfigChange(deps.gse, name, body);

  const document = nextDocument(name, body, previous);
  const { data } = await runVersion(
    deps,
    ref,
    head,
    previous,
    { operation: name, request: body, document, author: context.author, ...(context.idempotencyKey ? { idempotency_key: context.idempotencyKey } : {}) },
    () => applyConfigChange(deps.gse, name, body),
    expectationOfRequest(name, body),
    platName,
    operator,
  );
  return data;
}

/**
 * An add whose id GSE allocates: recorded as a pending-add until GSE has answered with the id,
 * then, verified, as the new object's version 1. A failure leaves the pending-add FAILED (with
 * the id when GSE gave one), which recovery undoes like any other failed version.
 */
async function addWithAllocatedId(deps: ConfigDeps, name: "add_streamto" | "add_route", body: unknown, context: ChangeContext): Promise<unknown> {
  const id = deps.newId();
  const now = deps.now();
  const document = nextDocument(name, body, null);
  const pending = await deps.store.putPendingAdd(
    id,
    { operation: name, request: body, document, author: context.author, created_at: now, ...(context.idempotencyKey ? { idempotency_key: context.idempotencyKey } : {}) },
    deps.settings.pendingAddTtlSeconds,
  );
  let data: unknown;
  try {
    data = await applyConfigChange(deps.gse, name, body as OperationRequest<typeof name>);
  } catch (error) {
    await deps.store.failPendingAdd(id, storedError(error), undefined, deps.now());
    throw error;
  }
  const ref = allocatedObject(name, data);
  const verified = await verify(deps, ref, platNameOf(name, body), operatorOf(body), expectationOfRequest(name, body));
  if (!verified.ok) {
    await deps.store.failPendingAdd(id, verified.error, ref.id, deps.now());
    throw new ConfigNotAppliedError(`${verified.error.message}; the add is being undone`, { object: objectKey(ref) });
  }
  try {
    await deps.store.completePendingAdd(id, pending, ref, data, deps.now());
  } catch (error) {
    if (!(error instanceof ConcurrentChangeError)) throw error;
    // The id was used before (an object we knew, deleted since): the add is its next version.
    const head = await deps.store.getHead(ref);
    if (!head) throw error;
    try {
      await deps.store.appendAllocatedAdd(id, pending, ref, head, data, deps.now());
    } catch (appendError) {
      // GSE holds the add all the same: the answer stands, the drift check shows the history is behind.
      deps.logger.error("could not record an add under its allocated id", { object: objectKey(ref), pending: id, error: storedError(appendError) });
    }
  }
  return data;
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
  const head = await deps.store.getHead(ref);
  if (head?.pending_version !== undefined) throw await conflict(deps, ref);
  if (options.basedOn !== undefined && (head?.current_version ?? 0) !== options.basedOn.version) throw await conflict(deps, ref);
  const operator = context.author;
  const previous =
    options.basedOn !== undefined
      ? options.basedOn.document
      : head
        ? ((await deps.store.getVersion(ref, head.current_version))?.document ?? null)
        : await readObject(deps.gse, ref, document?.plat_name ?? "", operator);
  const platName = document?.plat_name ?? previous?.plat_name ?? "";
  const { version } = await runVersion(
    deps,
    ref,
    head,
    previous,
    {
      operation: options.operation,
      ...(options.request !== undefined ? { request: options.request } : {}),
      document,
      author: context.author,
      ...(options.source_version !== undefined ? { source_version: options.source_version } : {}),
      ...(context.idempotencyKey ? { idempotency_key: context.idempotencyKey } : {}),
    },
    () => converge(deps.gse, ref, document, { platName, operator }),
    expectationOfDocument(document),
    platName,
    operator,
  );
  return version;
}
