/**
 * An add (add_streamto, add_route): recorded as a pending add until GSE has taken it, so a
 * refused add never touches an object; then, verified, the object's version.
 */
import { ConfigNotAppliedError } from "../core/errors.ts";
import { applyConfigChange } from "../gse/config-apply.ts";
import type { OperationRequest } from "../gse/operations.ts";
import { leftUnchanged, storedError, verify, type ChangeContext, type ConfigDeps } from "./change.ts";
import { allocatedObject, expectationOfRequest, nextDocument, objectKey, objectOf, operatorOf, platNameOf, type ObjectRef } from "./documents.ts";
import { ClaimLostError, underLock } from "./lock.ts";
import { ConcurrentChangeError, pendingAddKey, type PendingAddItem, type PendingAddKey } from "./store.ts";

/**
 * An add: recorded as a pending add until GSE has taken it (and, when GSE allocates the id, told
 * it), then, verified, as the object's version: version 1 of a new object, or the next version of
 * one we knew (deleted since, its id in use again). GSE refusing it, or never getting it: the
 * pending add is REJECTED and no object is touched. A failure after GSE may have taken it leaves
 * the pending add FAILED, which recovery undoes like any failed version.
 */
export async function addConfig(deps: ConfigDeps, name: "add_streamto" | "add_route", body: unknown, context: ChangeContext): Promise<unknown> {
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
  const verified = await verify(deps, ref, { platName: platNameOf(name, body), operator: operatorOf(body), expectation: expectationOfRequest(name, body) });
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
    deps.logger.error("could not record an add under its object", {
      object: objectKey(ref),
      pending: key.sk === "pending" ? key.pk : key.sk,
      error: storedError(error),
    });
  }
}
