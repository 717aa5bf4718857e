/**
 * A config change retried returns the first answer instead of being made twice:
 * - with an `Idempotency-Key` header, for any change, for CONFIG_IDEMPOTENCY_TTL_SECONDS;
 * - without one, an add whose id GSE allocates, repeated with the same body by the same caller
 *   within CONFIG_DEDUPE_WINDOW_SECONDS (a lost answer retried must not allocate a second id).
 *   bk-monitor's "allocate a data id" call (add_route with no routes and no filters) is exempt:
 *   its body is always the same, and each call is meant to allocate a new id.
 * A key whose first request is still running answers 409; a key reused with another body, 409.
 */
import { createHash } from "node:crypto";
import { canonicalJson } from "../core/canonical-json.ts";
import { ConflictError } from "../core/errors.ts";
import type { ConfigOperation } from "../gse/config-apply.ts";
import type { ConfigStore } from "./store.ts";

export const IDEMPOTENCY_HEADER = "idempotency-key";

export interface IdempotencyScope {
  readonly appCode: string;
  /** A GSE config operation, or a roll-back-to-N (queue jobs key those too). */
  readonly operation: ConfigOperation | "rollback_config";
  readonly body: unknown;
  readonly key: string | undefined;
}

export interface IdempotencyDeps {
  readonly store: ConfigStore;
  readonly now: () => number;
  readonly settings: {
    readonly idempotencyTtlSeconds: number;
    readonly dedupeWindowSeconds: number;
    /** A key still IN_PROGRESS after this long belongs to a process that died: it may be claimed again. */
    readonly inProgressTimeoutSeconds: number;
  };
}

const sha256 = (text: string): string => createHash("sha256").update(text, "utf8").digest("hex");

export const requestHash = (operation: string, body: unknown): string => sha256(`${operation}\n${canonicalJson(body)}`);

/** Where a caller's Idempotency-Key is recorded (keys are hashed: any length, no key injection). */
export const idempotencyKeyPk = (appCode: string, key: string): string => `idem#${appCode}#key#${sha256(key)}`;

/** Where an add without a key is recorded for the dedupe window: the caller and the request's hash. */
export const bodyDedupePk = (appCode: string, hash: string): string => `idem#${appCode}#body#${hash}`;

/** Whether a body without a key is deduplicated within the window (see the module comment). */
export function dedupedByBody(operation: ConfigOperation | "rollback_config", body: unknown): boolean {
  if (operation === "add_streamto") return true;
  if (operation !== "add_route") return false;
  const request = body as { metadata: { channel_id?: number }; route?: unknown[]; stream_filters?: unknown[] };
  return request.metadata.channel_id === undefined && ((request.route?.length ?? 0) > 0 || (request.stream_filters?.length ?? 0) > 0);
}

/** 409 for a repeat that arrived while the first is still running: by its key, or (no key) by its body. */
function inProgress(scope: IdempotencyScope): ConflictError {
  if (scope.key !== undefined) {
    return new ConflictError("the first request with this idempotency key is still in progress; retry later", {
      reason: "idempotency_key_in_progress",
      idempotency_key: scope.key,
    });
  }
  return new ConflictError(
    `an identical ${scope.operation} from the same caller is still in progress; retry later for its answer (send an Idempotency-Key header to name your retries)`,
    { reason: "identical_add_in_progress", operation: scope.operation },
  );
}

export async function withIdempotency<T>(deps: IdempotencyDeps, scope: IdempotencyScope, run: () => Promise<T>): Promise<T> {
  const hash = requestHash(scope.operation, scope.body);
  let pk: string;
  let ttl: number;
  if (scope.key !== undefined) {
    pk = idempotencyKeyPk(scope.appCode, scope.key);
    ttl = deps.settings.idempotencyTtlSeconds;
  } else if (deps.settings.dedupeWindowSeconds > 0 && dedupedByBody(scope.operation, scope.body)) {
    pk = bodyDedupePk(scope.appCode, hash);
    ttl = deps.settings.dedupeWindowSeconds;
  } else {
    return run();
  }
  const existing = await deps.store.claimIdempotency(pk, hash, deps.now(), ttl, deps.settings.inProgressTimeoutSeconds * 1000);
  if (existing) {
    if (existing.request_hash !== hash)
      throw new ConflictError("Idempotency-Key was already used with a different request", { idempotency_key: scope.key ?? null });
    if (existing.status === "IN_PROGRESS") throw inProgress(scope);
    return existing.response as T;
  }
  let result: T;
  try {
    result = await run();
  } catch (error) {
    // Nothing to replay: a retry runs again (the version, if any, records what happened).
    await deps.store.releaseIdempotency(pk);
    throw error;
  }
  await deps.store.completeIdempotency(pk, result);
  return result;
}
