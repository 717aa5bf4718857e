/**
 * The repository base every table's store is built on: DynamoDB's per-call limits, batches, and
 * retrying what a batch call leaves unprocessed with full-jitter backoff.
 */
import { BatchExecuteStatementCommand, type BatchExecuteStatementCommandOutput, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import pLimit, { type LimitFunction } from "p-limit";
import { setTimeout as sleepTimer } from "node:timers/promises";

/** DynamoDB's per-call limits. */
export const BATCH_GET_MAX_KEYS = 100;
export const BATCH_WRITE_MAX_ITEMS = 25;
export const BATCH_STATEMENTS_MAX = 25;

/** DynamoDB's limit for a partition key value, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 2048;

/** What a store over one table takes (this one and the fleet's). */
export interface BatchStoreOptions {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  /** DynamoDB calls in flight per store (shared by every request of the process). */
  readonly concurrency?: number;
  /** Rounds for unprocessed keys/items and throttled statements before giving up. */
  readonly maxAttempts?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

/** How unprocessed work is retried (drainUnprocessed's options). */
export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly random: () => number;
}

export const retryPolicy = (options: BatchStoreOptions): RetryPolicy => ({
  maxAttempts: options.maxAttempts ?? 8,
  sleep: options.sleep ?? ((ms) => sleepTimer(ms)),
  random: options.random ?? Math.random,
});

const BASE_DELAY_MS = 25;
const MAX_DELAY_MS = 1_000;

/** Per-statement errors of BatchExecuteStatement worth another round; the rest are final. */
const RETRYABLE_STATEMENT_ERRORS: ReadonlySet<string> = new Set([
  "ProvisionedThroughputExceeded",
  "ThrottlingError",
  "RequestLimitExceeded",
  "InternalServerError",
  "TransactionConflict",
]);

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Sends `pending` again and again while the answer leaves some of it unprocessed, with full-jitter
 * backoff between rounds (DynamoDB's advice for UnprocessedKeys/UnprocessedItems). Returns what
 * was still left after `maxAttempts` rounds.
 */
export async function drainUnprocessed<T>(
  pending: readonly T[],
  send: (batch: readonly T[]) => Promise<readonly T[]>,
  options: RetryPolicy,
): Promise<readonly T[]> {
  let left = pending;
  for (let attempt = 1; left.length > 0; attempt++) {
    left = await send(left);
    if (left.length === 0 || attempt >= options.maxAttempts) break;
    await options.sleep(Math.floor(options.random() * Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** attempt)));
  }
  return left;
}

/** One PartiQL statement and its parameters (values as the document client takes them). */
export interface Statement {
  readonly Statement: string;
  readonly Parameters: unknown[];
}

/**
 * Runs one statement per item, 25 to a BatchExecuteStatement call, sending again those whose
 * error is worth another round (throttling and the like) with full-jitter backoff. Each item ends
 * done, with the `expected` error (a condition that did not hold: someone else's write stands), or
 * failed (another error, or still retryable after the last round).
 */
export async function runStatements<T>(
  client: DynamoDBDocumentClient,
  limit: LimitFunction,
  retry: RetryPolicy,
  items: readonly T[],
  options: { statementOf: (item: T) => Statement; expected: string; onCall: (out: BatchExecuteStatementCommandOutput, sent: number) => void },
): Promise<{ done: number; expected: number; failed: number }> {
  let done = 0;
  let expected = 0;
  let failed = 0;
  await Promise.all(
    chunk(items, BATCH_STATEMENTS_MAX).map((part) =>
      limit(async () => {
        const left = await drainUnprocessed(
          part,
          async (batch) => {
            const out = await client.send(new BatchExecuteStatementCommand({ Statements: batch.map(options.statementOf), ReturnConsumedCapacity: "TOTAL" }));
            options.onCall(out, batch.length);
            const again: T[] = [];
            batch.forEach((item, i) => {
              const code = out.Responses?.[i]?.Error?.Code;
              if (code === undefined) done++;
              else if (code === options.expected) expected++;
              else if (RETRYABLE_STATEMENT_ERRORS.has(code)) again.push(item);
              else failed++;
            });
            return again;
          },
          retry,
        );
        failed += left.length;
      }),
    ),
  );
  return { done, expected, failed };
}

/**
 * What every batch-writing store of one table holds: its client and name, the calls it may have in
 * flight (shared by every request of the process) and how it retries unprocessed work.
 */
export class BatchTable {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly limit: LimitFunction;
  readonly retry: RetryPolicy;

  constructor(options: BatchStoreOptions, defaultConcurrency: number) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.limit = pLimit(options.concurrency ?? defaultConcurrency);
    this.retry = retryPolicy(options);
  }
}
