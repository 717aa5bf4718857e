/**
 * One change of an object at a time: a change waits (bounded) for the object's head to be free,
 * then claims it; after the wait, 409 with the versions involved.
 */
import { setTimeout as sleepTimer } from "node:timers/promises";
import { ConflictError } from "../core/errors.ts";
import type { ConfigDeps } from "./change.ts";
import { objectKey, type ObjectRef } from "./documents.ts";
import type { HeadItem } from "./store.ts";

/** CONFIG_LOCK_WAIT_MS's default: a few seconds, well under API Gateway's 30 s. */
export const DEFAULT_LOCK_WAIT_MS = 5_000;
/** Waiting for a head: full jitter over a capped exponential, so waiters do not poll in step. */
const LOCK_POLL_MIN_MS = 20;
const LOCK_POLL_MAX_MS = 250;

export async function conflict(deps: ConfigDeps, ref: ObjectRef): Promise<ConflictError> {
  const head = await deps.store.getHead(ref);
  return new ConflictError(`${objectKey(ref)} is being changed by another request; read it and try again`, {
    object: objectKey(ref),
    current_version: head?.current_version ?? null,
    pending_version: head?.pending_version ?? null,
  });
}

/** The claim lost to another change between reading the head and writing: read it again. */
export class ClaimLostError extends Error {}

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
