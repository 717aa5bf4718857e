import { z } from "zod";

/** The partial batch response of Lambda's ReportBatchItemFailures. */
const batchResponseSchema = z.object({
  batchItemFailures: z.array(z.object({ itemIdentifier: z.string().min(1) })),
});

export type BatchOutcome =
  | { readonly kind: "ok" }
  | { readonly kind: "partial"; readonly failedIds: ReadonlySet<string> }
  | { readonly kind: "error"; readonly error: unknown };

/**
 * Reads a handler's result as Lambda does: no failures listed means success; an identifier
 * that is not in the batch makes Lambda treat the whole batch as failed.
 */
export function readBatchResponse(result: unknown, batchIds: readonly string[]): BatchOutcome {
  if (result === undefined || result === null) return { kind: "ok" };
  const parsed = batchResponseSchema.safeParse(result);
  if (!parsed.success) return { kind: "ok" };
  const failed = new Set(parsed.data.batchItemFailures.map((f) => f.itemIdentifier));
  if (failed.size === 0) return { kind: "ok" };
  const known = new Set(batchIds);
  for (const id of failed) {
    if (!known.has(id)) return { kind: "error", error: new Error(`batchItemFailures names ${id}, which is not in the batch`) };
  }
  return { kind: "partial", failedIds: failed };
}
