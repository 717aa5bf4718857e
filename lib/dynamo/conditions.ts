/** What a refused conditional write looks like, told apart from every other DynamoDB error. */
import { ConditionalCheckFailedException, TransactionCanceledException } from "@aws-sdk/client-dynamodb";

const hasReason = (error: unknown, code: string): boolean =>
  error instanceof TransactionCanceledException && (error.CancellationReasons ?? []).some((r) => r.Code === code);

/** A conditional write (or a transaction with one) whose condition did not hold. */
export const isConditionFailure = (error: unknown): boolean =>
  error instanceof ConditionalCheckFailedException ||
  (error instanceof Error && error.name === "ConditionalCheckFailedException") ||
  hasReason(error, "ConditionalCheckFailed");

/** A transaction that lost to another one on the same item: worth trying again. */
export const isTransactionConflict = (error: unknown): boolean => hasReason(error, "TransactionConflict");

/**
 * Any cancelled transaction or failed condition: for the config versions, whose transactions have
 * no other way to fail than another writer on the same object, each of these is a concurrent change.
 */
export const isCancelledOrConditionFailure = (error: unknown): boolean =>
  error instanceof Error && (error.name === "TransactionCanceledException" || error.name === "ConditionalCheckFailedException");
