/**
 * The commands table's stream, for rollouts an owner started (an APM datasource action): the
 * rollout's end is handed to its owner once, when its status turns final. A crash re-delivers the
 * record, so the owner's part must be idempotent (it is conditioned on the owner's own state).
 */
import type { RecoveryRule } from "../automation/recovery.ts";
import type { StreamRecord } from "../core/records.ts";
import { isFinalRollout, META_SK, rolloutItemSchema, ROLLOUT_STATUSES, type RolloutItem, type RolloutStatus } from "./items.ts";

const isStatus = (value: unknown): value is RolloutStatus => typeof value === "string" && (ROLLOUT_STATUSES as readonly string[]).includes(value);

export function rolloutEndRule(onEnded: (rollout: RolloutItem) => Promise<unknown>): RecoveryRule {
  return async function recoverRolloutRecord(record: StreamRecord) {
    const { NewImage: next, OldImage: previous } = record.dynamodb;
    if (!next || typeof next.pk !== "string" || !next.pk.startsWith("rollout#") || next.sk !== META_SK || next.origin === undefined) return;
    if (!isStatus(next.status) || !isFinalRollout(next.status)) return;
    // Only the change that ended it: later writes (the undo's progress) keep the final status.
    if (isStatus(previous?.status) && isFinalRollout(previous.status)) return;
    await onEnded(rolloutItemSchema.parse(next));
  };
}
