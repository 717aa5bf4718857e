/**
 * A command engine of a test file's own, driven through lib/ against the shared stack's real parts:
 * a commands table of its own in DynamoDB Local (no stream poller reads it), the GSE simulator for
 * deliveries, a test clock, and a queue whose jobs the test reads and runs itself.
 */
import { CreateTableCommand } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { randomBytes } from "node:crypto";
import { beforeAll } from "vitest";
import type { CommandDeps, CommandSettings } from "../../lib/commands/settings.ts";
import { CommandStore } from "../../lib/commands/store.ts";
import { agentPartitions } from "../../lib/commands/store/items.ts";
import { GseClient } from "../../lib/gse/client.ts";
import { TABLES } from "../../lib/resources.ts";
import { tableSpec } from "../../local/dynamodb.ts";
import { testGseConfig, useStack } from "./stack.ts";

/** Small batches, few attempts, short backoffs: what the commands tests run with unless they say otherwise. */
export const TEST_COMMAND_SETTINGS: CommandSettings = {
  batchSize: 10,
  gseConcurrency: 2,
  maxAttempts: 3,
  retryBaseMs: 1_000,
  retryMaxDelayMs: 2_000,
  sendBudgetMs: 60_000,
  leaseMs: 20_000,
  tickMs: 60_000,
  retentionMs: 86_400_000,
};

export interface CommandEngine {
  readonly deps: CommandDeps;
  readonly clock: { now: number };
  /** Every job the engine put on "the queue", in order. */
  readonly jobs: { type: string; message_id?: unknown; delaySeconds: number }[];
}

export interface CommandTestTable {
  readonly tableName: string;
  readonly doc: DynamoDBDocumentClient;
  readonly store: CommandStore;
  /** An engine on this table with a clock of its own; `overrides` replace its deps (a failing store, another queue). */
  engine(overrides?: Partial<CommandDeps>): CommandEngine;
  /** The agent items the table holds for a command (sk = agent#…), read raw under every key its agents spread over. */
  storedAgentItems<T = Record<string, unknown>>(messageId: string): Promise<T[]>;
  /** The items under one partition key whose sort key starts with `prefix`, read raw. */
  itemsUnder<T = Record<string, unknown>>(pk: string, prefix: string): Promise<T[]>;
}

/** A fresh commands table named `<prefix>-<random>`, created before the file's tests run. */
export function commandTestTable(prefix: string, settings: CommandSettings = TEST_COMMAND_SETTINGS): CommandTestTable {
  const { info, dynamo } = useStack();
  const tableName = `${prefix}-${randomBytes(6).toString("hex")}`;
  const doc = DynamoDBDocumentClient.from(dynamo);
  const store = new CommandStore({ client: doc, tableName });
  const gse = new GseClient({ gse: testGseConfig(info), sleep: async () => undefined });
  beforeAll(async () => {
    await dynamo.send(new CreateTableCommand(tableSpec(TABLES.commands, tableName)));
  });
  const itemsUnder = async <T>(pk: string, prefix: string): Promise<T[]> => {
    const items: T[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await doc.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
          ExpressionAttributeValues: { ":pk": pk, ":prefix": prefix },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      items.push(...((out.Items ?? []) as T[]));
      start = out.LastEvaluatedKey;
    } while (start);
    return items;
  };
  return {
    tableName,
    doc,
    store,
    engine(overrides = {}) {
      const clock = { now: Date.now() };
      const jobs: CommandEngine["jobs"] = [];
      const deps: CommandDeps = {
        store,
        gse,
        slot: { slotId: info.credentials.gse.slotId, slotToken: info.credentials.gse.slotToken },
        queue: { send: async (job, delaySeconds) => void jobs.push({ ...job, delaySeconds }) },
        settings,
        now: () => clock.now,
        random: () => 0.5,
        ...overrides,
      };
      return { deps, clock, jobs };
    },
    storedAgentItems: async <T>(messageId: string): Promise<T[]> => {
      const command = await store.getCommand(messageId);
      if (!command) return [];
      return (await Promise.all(agentPartitions(command).map((pk) => itemsUnder<T>(pk, "agent#")))).flat();
    },
    itemsUnder,
  };
}
