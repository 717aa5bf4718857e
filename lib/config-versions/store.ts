/**
 * The configs table (lib/resources.ts TABLES.configs): per configuration object a head item and
 * its immutable versions, plus records of adds whose id GSE has yet to allocate and idempotency
 * records. The head moves only inside a conditional transaction, so two changes of one object
 * can never both think they came after the same version.
 *
 *   pk = cfg#<kind>#<id>         sk = head        current/last good/pending version
 *   pk = cfg#<kind>#<id>         sk = v#<9 digits> one version
 *   pk = cfg#pending-add#<uuid>  sk = pending     an add waiting for its id (then points to it)
 *   pk = cfg#<kind>#<id>         sk = add#<uuid>   an add of that very id (add_route with channel_id):
 *                                                  kept beside the object, not as its version, until
 *                                                  GSE took it (a refused add never touches the object)
 *   pk = idem#<app>#<key>        sk = idem        the first answer to an idempotency key
 */
import { DeleteCommand, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import * as z from "zod";
import { isCancelledOrConditionFailure } from "../dynamo/conditions.ts";
import { PendingAddRecords } from "./pending-adds-store.ts";
import { TTL } from "./table.ts";

export {
  adoptionSchema,
  headItemSchema,
  isPendingAddSk,
  pendingAddItemSchema,
  storedErrorSchema,
  VERSION_STATUSES,
  versionItemSchema,
  versionStatusSchema,
  type Adoption,
  type HeadItem,
  type PendingAddItem,
  type StoredError,
  type VersionItem,
  type VersionStatus,
} from "./items.ts";
export {
  ConcurrentChangeError,
  HEAD_SK,
  objectPk,
  pendingAddKey,
  pendingAddPk,
  versionSk,
  type AdoptedState,
  type PendingAddKey,
  type RecoveryOutcome,
  type WriteCounter,
} from "./table.ts";

export const idempotencyItemSchema = z.object({
  pk: z.string(),
  sk: z.literal("idem"),
  status: z.enum(["IN_PROGRESS", "DONE"]),
  request_hash: z.string(),
  /** The answer's `data`, or GSE's error to pass through again. */
  response: z.unknown().optional(),
  created_at: z.number(),
  [TTL]: z.int(),
});
export type IdempotencyItem = z.infer<typeof idempotencyItemSchema>;

/** The one object callers hold: heads and versions, pending adds (the classes it extends) and idempotency records. */
export class ConfigStore extends PendingAddRecords {
  /**
   * Claims an idempotency key for a request. Answers the record already there instead when the
   * key was used before and has not expired.
   */
  async claimIdempotency(pk: string, requestHash: string, now: number, ttlSeconds: number, abandonedAfterMs: number): Promise<IdempotencyItem | undefined> {
    const item: IdempotencyItem = {
      pk,
      sk: "idem",
      status: "IN_PROGRESS",
      request_hash: requestHash,
      created_at: now,
      [TTL]: Math.floor(now / 1000) + ttlSeconds,
    };
    this.counter.writes += 1;
    try {
      await this.options.client.send(
        new PutCommand({
          TableName: this.table,
          Item: item,
          // TTL deletion lags by up to days: an expired record counts as absent. One left
          // IN_PROGRESS by a process that died counts as absent once it is older than a change can run.
          ConditionExpression: "attribute_not_exists(pk) OR #ttl < :nowSeconds OR (#status = :inProgress AND created_at < :abandoned)",
          ExpressionAttributeNames: { "#ttl": TTL, "#status": "status" },
          ExpressionAttributeValues: { ":nowSeconds": Math.floor(now / 1000), ":inProgress": "IN_PROGRESS", ":abandoned": now - abandonedAfterMs },
        }),
      );
      return undefined;
    } catch (error) {
      if (!isCancelledOrConditionFailure(error)) throw error;
    }
    const { Item } = await this.options.client.send(new GetCommand({ TableName: this.table, Key: { pk, sk: "idem" }, ConsistentRead: true }));
    return Item ? idempotencyItemSchema.parse(Item) : undefined;
  }

  async completeIdempotency(pk: string, response: unknown): Promise<void> {
    await this.update({
      Key: { pk, sk: "idem" },
      UpdateExpression: "SET #status = :done, #response = :response",
      ExpressionAttributeNames: { "#status": "status", "#response": "response" },
      ExpressionAttributeValues: { ":done": "DONE", ":response": response ?? null },
    });
  }

  /** Frees a key whose request failed before anything was recorded, so a retry may run. */
  async releaseIdempotency(pk: string): Promise<void> {
    this.counter.writes += 1;
    await this.options.client.send(new DeleteCommand({ TableName: this.table, Key: { pk, sk: "idem" } }));
  }
}
