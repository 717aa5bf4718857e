/**
 * What the runtime does each time it starts: every RUNNING command gets a tick at once. A crash
 * loses a command's tick (in flight in a dead runtime until its 180 s visibility timeout, or gone
 * with the supervisor's in-memory SQS); the scheduled sweep would find the command only minutes
 * later. A spare tick does no harm: every step of a tick is conditional (lib/commands/retry.ts).
 */
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { JOB_TYPES } from "../lib/automation/job-types.ts";
import { queueUrlOf, tableOf, type Config } from "../lib/core/config.ts";
import { sqsSender } from "../lib/core/queue.ts";
import { CommandStore } from "../lib/commands/store.ts";

export interface RecoveryDeps {
  /** One page of RUNNING commands' ids, from `cursor`. */
  listRunning(cursor: string | undefined): Promise<{ items: readonly { message_id: string }[]; cursor: string | undefined }>;
  /** Queues a command's tick, due now. */
  tick(messageId: string): Promise<void>;
}

/** Sends a tick for every RUNNING command; returns their ids. */
export async function tickRunningCommands(deps: RecoveryDeps): Promise<string[]> {
  const ticked: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await deps.listRunning(cursor);
    for (const { message_id } of page.items) {
      await deps.tick(message_id);
      ticked.push(message_id);
    }
    cursor = page.cursor;
  } while (cursor);
  return ticked;
}

/** The recovery's dependencies on the stack's own table and queue, as the command functions reach them. */
export function recoveryDeps(config: Config, clients: { readonly dynamo: DynamoDBDocumentClient; readonly sqs: SQSClient }): RecoveryDeps {
  const store = new CommandStore({ client: clients.dynamo, tableName: tableOf(config, "commands") });
  const queue = sqsSender(clients.sqs, queueUrlOf(config, "automation"));
  return {
    listRunning: (cursor) => store.listCommands({ limit: 200, cursor, status: "RUNNING" }),
    tick: (messageId) => queue.send({ type: JOB_TYPES.commandTick, message_id: messageId }, 0),
  };
}
