/**
 * A command's final alert through the outbox (lib/core/outbox.ts): the command is marked alerted,
 * with the counts the alert carries, and the alert put in the commands table's outbox in one
 * transaction; then it is published and its item marked sent. Whoever ends a command (recovery's
 * alertOnce in retry.ts, the command sweep) calls raiseCommandAlert instead of publishing and then
 * marking: a crash between the two then neither loses the alert (the outbox sweep sends it after
 * the lease) nor sends it twice under different ids (a copy carries the same `alert_id`,
 * `command#<message_id>`).
 */
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { AlertPublisher } from "../core/alerts.ts";
import { deliver, Outbox, type OutboxEntry } from "../core/outbox.ts";
import type { CommandAlert } from "./alerts.ts";
import { commandPk, META_SK, type CommandItem } from "./store/items.ts";

export interface CommandAlertDeps {
  /** The commands table. */
  readonly table: { readonly client: DynamoDBDocumentClient; readonly tableName: string };
  readonly alerts: AlertPublisher<CommandAlert>;
  readonly now: () => number;
}

/** The one alert_id of a command's final alert: a command ends once. */
export const commandAlertId = (messageId: string): string => `command#${messageId}`;

/**
 * Raises the final alert of a command once: false (nothing written or sent) when the command was
 * alerted already or is gone.
 */
export async function raiseCommandAlert(deps: CommandAlertDeps, counts: NonNullable<CommandItem["counts"]>, alert: CommandAlert): Promise<boolean> {
  const { client, tableName } = deps.table;
  const outbox = new Outbox({ client, table: tableName });
  const entry: OutboxEntry<CommandAlert> = { alert: { ...alert, alert_id: commandAlertId(alert.message_id) } };
  const now = deps.now();
  const marked = await outbox.putWith(
    [
      {
        Update: {
          TableName: tableName,
          Key: { pk: commandPk(alert.message_id), sk: META_SK },
          UpdateExpression: "SET alerted_at = :now, #counts = :counts",
          ConditionExpression: "attribute_exists(pk) AND attribute_not_exists(alerted_at)",
          ExpressionAttributeNames: { "#counts": "counts" },
          ExpressionAttributeValues: { ":now": now, ":counts": counts },
        },
      },
    ],
    entry,
    now,
  );
  if (!marked) return false;
  await deliver(outbox, deps.alerts, entry, deps.now);
  return true;
}
