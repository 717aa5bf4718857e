/**
 * The alert outbox: an alert is first an item, written in the same transaction as the state change
 * it reports, and only then a message on the alerts topic. A process that dies between the two
 * leaves the item behind, and the sweep (sweepOutbox, run by the command_sweep schedule) publishes
 * it; nothing a crash can interrupt loses an alert.
 *
 * An item lives in the table of the state it reports (`pk = "outbox"`, `sk = alert#<alert_id>`),
 * so one transaction holds both. Its writer claims it for OUTBOX_LEASE_MS and publishes at once;
 * the sweep takes only items whose lease ran out. Marking the item sent is conditional, but SNS
 * and DynamoDB are not one transaction: a crash after the publish and before the mark publishes
 * the alert a second time after the lease, with the same `alert_id` (the SNS attribute too), which
 * a subscriber drops (docs/operations.md).
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import { QueryCommand, TransactWriteCommand, UpdateCommand, type DynamoDBDocumentClient, type TransactWriteCommandInput } from "@aws-sdk/lib-dynamodb";
import * as z from "zod";
import type { Alert, AlertPublisher, AlertPublishOptions } from "./alerts.ts";
import { isConditionFailure } from "../dynamo/conditions.ts";
import { redactingReplacer } from "./logger.ts";

/** The partition of every outbox item, in whichever table holds it. */
export const OUTBOX_PK = "outbox";
const SK_PREFIX = "alert#";

/** How long a writer has to publish its own item before the sweep may. */
export const OUTBOX_LEASE_MS = 60_000;

/** A sent item stays this long (DynamoDB TTL ends it): what was sent, and when, can be looked up. */
export const OUTBOX_SENT_RETENTION_SECONDS = 7 * 86_400;

/** An alert on its way: the alert (with its stable `alert_id`) and how it is to be published. */
export interface OutboxEntry<A extends Alert = Alert> {
  readonly alert: A & { readonly alert_id: string };
  readonly options?: AlertPublishOptions;
}

/** One write of a transaction as the document client takes it (plain values, not attribute maps). */
export type DocumentTransactItem = NonNullable<TransactWriteCommandInput["TransactItems"]>[number];

const storedSchema = z.object({
  pk: z.literal(OUTBOX_PK),
  sk: z.string(),
  alert_id: z.string(),
  /** The alert as JSON, credentials masked as the publisher masks them: the table never holds more than the topic. */
  message: z.string(),
  subject: z.string().optional(),
  attributes: z.record(z.string(), z.string()).optional(),
  lease_until: z.number(),
  sent_at: z.number().optional(),
});
type StoredEntry = z.infer<typeof storedSchema>;

export interface OutboxOptions {
  readonly client: DynamoDBDocumentClient;
  readonly table: string;
  readonly leaseMs?: number;
}

/** The outbox items of one table. */
export class Outbox {
  readonly table: string;
  private readonly client: DynamoDBDocumentClient;
  private readonly leaseMs: number;

  constructor(options: OutboxOptions) {
    this.client = options.client;
    this.table = options.table;
    this.leaseMs = options.leaseMs ?? OUTBOX_LEASE_MS;
  }

  /** The item of `entry`, claimed by its writer until `now + lease`; first writer wins (the same alert_id twice is one alert). */
  put<A extends Alert>(entry: OutboxEntry<A>, now: number): DocumentTransactItem {
    const { alert, options } = entry;
    return {
      Put: {
        TableName: this.table,
        Item: {
          pk: OUTBOX_PK,
          sk: `${SK_PREFIX}${alert.alert_id}`,
          alert_id: alert.alert_id,
          message: JSON.stringify(alert, redactingReplacer),
          ...(options?.subject !== undefined ? { subject: options.subject } : {}),
          ...(options?.attributes !== undefined ? { attributes: options.attributes } : {}),
          created_at: now,
          lease_until: now + this.leaseMs,
        },
        ConditionExpression: "attribute_not_exists(pk)",
      },
    };
  }

  /**
   * The state change `change` and the alert reporting it, in one transaction. Undefined (nothing
   * written) when a condition failed: the change was made already, or the alert is there; any
   * other refusal (a conflicting transaction) is thrown, so the caller tries again rather than
   * take it for "alerted already". Otherwise the write units the transaction used, when DynamoDB said.
   */
  async putWith<A extends Alert>(
    change: readonly DocumentTransactItem[],
    entry: OutboxEntry<A>,
    now: number,
  ): Promise<{ writeUnits: number | undefined } | undefined> {
    try {
      const out = await this.client.send(new TransactWriteCommand({ TransactItems: [...change, this.put(entry, now)], ReturnConsumedCapacity: "TOTAL" }));
      return { writeUnits: out.ConsumedCapacity?.[0]?.CapacityUnits };
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  /** Marks an item sent; false when it already was (another publisher got there first). */
  async markSent(alertId: string, now: number): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: OUTBOX_PK, sk: `${SK_PREFIX}${alertId}` },
          UpdateExpression: "SET sent_at = :now, expires_at = :expires REMOVE lease_until",
          ConditionExpression: "attribute_exists(pk) AND attribute_not_exists(sent_at)",
          ExpressionAttributeValues: { ":now": now, ":expires": Math.floor(now / 1000) + OUTBOX_SENT_RETENTION_SECONDS },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /** Unsent items whose lease ran out: their writer died or could not publish. */
  async abandoned(now: number): Promise<StoredEntry[]> {
    const out: StoredEntry[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: "pk = :pk",
          FilterExpression: "attribute_not_exists(sent_at) AND lease_until < :now",
          ExpressionAttributeValues: { ":pk": OUTBOX_PK, ":now": now },
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of page.Items ?? []) {
        const parsed = storedSchema.safeParse(item);
        if (parsed.success) out.push(parsed.data);
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return out;
  }

  /** Takes an abandoned item for one more lease; false when another sweep took it or it was sent meanwhile. */
  async claim(item: StoredEntry, now: number): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: OUTBOX_PK, sk: item.sk },
          UpdateExpression: "SET lease_until = :until",
          ConditionExpression: "attribute_not_exists(sent_at) AND lease_until = :seen",
          ExpressionAttributeValues: { ":until": now + this.leaseMs, ":seen": item.lease_until },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }
}

/**
 * The writer's half, after its transaction committed: publish its own claimed item, then mark it
 * sent. A failed publish is left to the sweep (the item stays, unsent, after its lease).
 */
export async function deliver<A extends Alert>(outbox: Outbox, publisher: AlertPublisher<A>, entry: OutboxEntry<A>, now: () => number): Promise<void> {
  await publisher.publish(entry.alert, entry.options);
  await outbox.markSent(entry.alert.alert_id, now());
}

export interface SweepOutboxDeps {
  readonly outboxes: readonly Outbox[];
  readonly publisher: AlertPublisher;
  readonly now: () => number;
  readonly logger?: Pick<Logger, "warn" | "error">;
}

export type SweepOutboxResult = {
  readonly published: number;
  readonly failed: number;
};

/** Publishes every item a crashed (or refused) writer left behind, once its lease ran out. */
export async function sweepOutbox(deps: SweepOutboxDeps): Promise<SweepOutboxResult> {
  let published = 0;
  let failed = 0;
  for (const outbox of deps.outboxes) {
    for (const item of await outbox.abandoned(deps.now())) {
      if (!(await outbox.claim(item, deps.now()))) continue;
      try {
        const alert = JSON.parse(item.message) as Alert;
        await deps.publisher.publish(alert, {
          ...(item.subject !== undefined ? { subject: item.subject } : {}),
          ...(item.attributes !== undefined ? { attributes: item.attributes } : {}),
        });
        await outbox.markSent(item.alert_id, deps.now());
        published++;
        deps.logger?.warn("outbox: published an alert its writer left unsent", { table: outbox.table, alert_id: item.alert_id, type: alert.type });
      } catch (error) {
        // The claim's lease runs out again and the next sweep tries once more.
        failed++;
        deps.logger?.error("outbox: could not publish an abandoned alert", {
          table: outbox.table,
          alert_id: item.alert_id,
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
  }
  return { published, failed };
}
