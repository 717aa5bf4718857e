/**
 * The fleet table (lib/resources.ts TABLES.fleet): the agents the heartbeat watches, each one's
 * polled state, its transitions, and the poll's own bookkeeping. Items, by key:
 *
 * | pk                  | sk                 | what                                                      |
 * |---------------------|--------------------|-----------------------------------------------------------|
 * | `fleet#NN`          | `agent#<id>`       | one watched agent: registry + state (NN = hash(id) mod 64) |
 * | `history#<id>`      | `<ISO time>#<kind>`| one transition of that agent                              |
 * | `meta`              | `polled`           | per partition, when a poll last answered for all of it    |
 * | `meta`              | `planner`          | last poll's fleet size and cost per agent (fan-out plan)  |
 * | `meta`              | `summary`          | the fleet view as of the last completed poll              |
 * | `meta`              | `gse_outage`       | present while GSE is failing polls (one alert per outage) |
 * | `poll#<id>`         | `run` / `shard#<k>`| one poll: shards still running, each shard's result       |
 * | `alert#<kind>`      | `<fingerprint>`    | an alert published recently (dedup window, by TTL)        |
 * | `fleetstats#<day>`  | `<ISO time>`       | counts by status every 5 minutes, for the status page     |
 * | `alertlog#<day>`    | `<ISO time>#<id>`  | every alert published, for the status page (fleet-log.ts) |
 *
 * Agents are spread over 64 partitions so that no single partition key takes a 100,000-agent
 * fleet's reads and writes, and so a poll can be split into shards by partition.
 */
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from "@aws-sdk/lib-dynamodb";
import { createHash } from "node:crypto";
import pLimit, { type LimitFunction } from "p-limit";
import { BATCH_GET_MAX_KEYS, BATCH_WRITE_MAX_ITEMS, chunk, drainUnprocessed, retryPolicy, runStatements, type BatchStoreOptions, type RetryPolicy, type Statement } from "../dynamo/batch.ts";
import { isConditionFailure } from "../dynamo/conditions.ts";
import { FLEET_PARTITIONS, fleetAgentSchema, transitionSchema, type FleetAgent, type TransitionRecord } from "./items.ts";

export * from "./items.ts";

export function partitionOf(agentId: string): number {
  return createHash("md5").update(agentId).digest().readUInt32BE(0) % FLEET_PARTITIONS;
}

const pad = (n: number): string => String(n).padStart(2, "0");
export const agentKey = (agentId: string) => ({ pk: `fleet#${pad(partitionOf(agentId))}`, sk: `agent#${agentId}` });
const partitionPk = (partition: number): string => `fleet#${pad(partition)}`;
const historyPk = (agentId: string): string => `history#${agentId}`;
const META = "meta";

type Removable<T> = { [K in keyof T]?: T[K] | null };

/** The fields of an agent a poll may change (everything but registry and bookkeeping); null removes a field. */
export type AgentChange = Removable<Omit<FleetAgent, "agent_id" | "registered_at" | "sources" | "rev" | "expires_at" | "changed_at">> & {
  readonly expires_at: number | null;
};

/** DynamoDB work done for one caller, for logs and the benchmark. */
export interface FleetCalls {
  reads: number;
  /** Read capacity units DynamoDB reports (ReturnConsumedCapacity); what the cost model prices. */
  readUnits: number;
  writes: number;
  /** Write capacity units DynamoDB reports (ReturnConsumedCapacity), or 1 per item where it reports none. */
  writeUnits: number;
}
export const newFleetCalls = (): FleetCalls => ({ reads: 0, readUnits: 0, writes: 0, writeUnits: 0 });

/** Read units of one call's answer (one figure for Get/Query, one per table for BatchGet). */
type Consumed = { readonly CapacityUnits?: number | undefined };
const readUnitsOf = (consumed: Consumed | readonly Consumed[] | undefined): number =>
  [consumed ?? []].flat().reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0);

export type FleetStoreOptions = BatchStoreOptions;

export interface AgentPage {
  readonly agents: FleetAgent[];
  /** The sk to continue after, when the partition has more. */
  readonly after?: string;
}

export class FleetStore {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  private readonly limit: LimitFunction;
  private readonly retry: RetryPolicy;

  constructor(options: FleetStoreOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.limit = pLimit(options.concurrency ?? 16);
    this.retry = retryPolicy(options);
  }

  /** One read call, counted with the read units DynamoDB reports. */
  private async read<O extends { ConsumedCapacity?: Consumed | Consumed[] | undefined }>(calls: FleetCalls, send: () => Promise<O>): Promise<O> {
    calls.reads++;
    const out = await send();
    calls.readUnits += readUnitsOf(out.ConsumedCapacity);
    return out;
  }

  /** One single-item write, counted with the write units DynamoDB reports (1 where it reports none). Counted as a call even when it throws. */
  private async write<O extends { ConsumedCapacity?: Consumed | undefined }>(calls: FleetCalls, send: () => Promise<O>): Promise<O> {
    calls.writes++;
    const out = await send();
    calls.writeUnits += out.ConsumedCapacity?.CapacityUnits ?? 1;
    return out;
  }

  // ---- agents -------------------------------------------------------------------------------

  /** One page of a partition's agents, after `after` (an sk), up to `limit` items read. */
  async agentPage(partition: number, options: { after?: string; limit?: number }, calls: FleetCalls): Promise<AgentPage> {
    const out = await this.read(calls, () => this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        ReturnConsumedCapacity: "TOTAL",
        KeyConditionExpression: options.after === undefined ? "pk = :pk" : "pk = :pk AND sk > :after",
        ExpressionAttributeValues: { ":pk": partitionPk(partition), ...(options.after === undefined ? {} : { ":after": options.after }) },
        ...(options.limit !== undefined ? { Limit: options.limit } : {}),
      }),
    ));
    const agents = (out.Items ?? []).flatMap((raw) => {
      const parsed = fleetAgentSchema.safeParse(raw);
      return parsed.success ? [parsed.data] : [];
    });
    const last = out.LastEvaluatedKey?.sk;
    return { agents, ...(typeof last === "string" ? { after: last } : {}) };
  }

  /** Every agent of the partitions. */
  async agentsOf(partitions: readonly number[], calls: FleetCalls): Promise<FleetAgent[]> {
    const pages = await Promise.all(
      partitions.map((partition) =>
        this.limit(async () => {
          const all: FleetAgent[] = [];
          let after: string | undefined;
          do {
            const page = await this.agentPage(partition, after === undefined ? {} : { after }, calls);
            all.push(...page.agents);
            after = page.after;
          } while (after !== undefined);
          return all;
        }),
      ),
    );
    return pages.flat();
  }

  async getAgent(agentId: string, calls: FleetCalls): Promise<FleetAgent | undefined> {
    const out = await this.read(calls, () => this.client.send(new GetCommand({ TableName: this.tableName, Key: agentKey(agentId), ReturnConsumedCapacity: "TOTAL" })));
    const parsed = fleetAgentSchema.safeParse(out.Item);
    return parsed.success ? parsed.data : undefined;
  }

  /** Which of `ids` are watched already, with their sources. */
  async existing(ids: readonly string[], calls: FleetCalls): Promise<Map<string, FleetAgent>> {
    const found = new Map<string, FleetAgent>();
    const table = this.tableName;
    await Promise.all(
      chunk(ids, BATCH_GET_MAX_KEYS).map((part) =>
        this.limit(async () => {
          const left = await drainUnprocessed(
            part.map((id): Record<string, unknown> => agentKey(id)),
            async (keys) => {
              const out = await this.read(calls, () => this.client.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: [...keys] } }, ReturnConsumedCapacity: "TOTAL" })));
              for (const raw of out.Responses?.[table] ?? []) {
                const parsed = fleetAgentSchema.safeParse(raw);
                if (parsed.success) found.set(parsed.data.agent_id, parsed.data);
              }
              return out.UnprocessedKeys?.[table]?.Keys ?? [];
            },
            this.retry,
          );
          if (left.length > 0) throw new Error(`DynamoDB left ${left.length} fleet keys unprocessed`);
        }),
      ),
    );
    return found;
  }

  /**
   * Adds new agents, each unless it is there already (a poll's state is never reset by a
   * registration racing it). PartiQL INSERT fails per statement on an existing key, so this is a
   * conditional put 25 at a time: the cache's write-back registers 10,000 agents it meets for the
   * first time in 400 calls, not 10,000. Returns how many were added; throws when some could be
   * neither added nor found there after the retries.
   */
  async addAgents(agents: readonly FleetAgent[], calls: FleetCalls): Promise<number> {
    const statementOf = (agent: FleetAgent): Statement => {
      const item: Record<string, unknown> = { ...agent, ...agentKey(agent.agent_id) };
      const names = Object.keys(item).filter((name) => item[name] !== undefined);
      return { Statement: `INSERT INTO "${this.tableName}" VALUE {${names.map((name) => `'${name}': ?`).join(", ")}}`, Parameters: names.map((name) => item[name]) };
    };
    // DynamoDB refuses a whole batch that names one key twice.
    const distinct = [...new Map(agents.map((agent) => [agent.agent_id, agent])).values()];
    const { done: added, failed } = await runStatements(this.client, this.limit, this.retry, distinct, {
      statementOf,
      expected: "DuplicateItem",
      onCall: (out, sent) => {
        calls.writes++;
        calls.writeUnits += readUnitsOf(out.ConsumedCapacity) || sent;
      },
    });
    if (failed > 0) throw new Error(`${failed} of ${agents.length} fleet registrations could not be written`);
    return added;
  }

  /** Adds a source to an agent watched already (a set: no duplicate, no other field touched). */
  async addSource(agentId: string, source: string, calls: FleetCalls): Promise<void> {
    try {
      await this.write(calls, () => this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: agentKey(agentId),
          UpdateExpression: "SET sources = list_append(sources, :s)",
          ConditionExpression: "attribute_exists(pk) AND NOT contains(sources, :one)",
          ExpressionAttributeValues: { ":s": [source], ":one": source },
          ReturnConsumedCapacity: "TOTAL",
        }),
      ));
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  /** Stops watching: deletes the agents' items (their history expires by TTL). */
  async deleteAgents(ids: readonly string[], calls: FleetCalls): Promise<void> {
    const table = this.tableName;
    type DeleteEntry = { DeleteRequest: { Key: Record<string, unknown> } };
    await Promise.all(
      chunk(ids, BATCH_WRITE_MAX_ITEMS).map((part) =>
        this.limit(async () => {
          const left = await drainUnprocessed(
            part.map((id): DeleteEntry => ({ DeleteRequest: { Key: agentKey(id) } })),
            async (requests) => {
              calls.writes++;
              const out = await this.client.send(new BatchWriteCommand({ RequestItems: { [table]: [...requests] }, ReturnConsumedCapacity: "TOTAL" }));
              calls.writeUnits += out.ConsumedCapacity?.[0]?.CapacityUnits ?? requests.length;
              return (out.UnprocessedItems?.[table] ?? []).flatMap((r): DeleteEntry[] => (r.DeleteRequest?.Key ? [{ DeleteRequest: { Key: r.DeleteRequest.Key } }] : []));
            },
            this.retry,
          );
          if (left.length > 0) throw new Error(`DynamoDB left ${left.length} fleet deletes unprocessed`);
        }),
      ),
    );
  }

  /**
   * Writes a poll's change to one agent, only if the item is still the one read (same rev): a
   * concurrent unregister is not undone, and a second pass of the same poll changes nothing.
   * Returns false when the condition failed.
   */
  async updateAgent(agent: FleetAgent, change: AgentChange, at: number, calls: FleetCalls): Promise<boolean> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ":rev": agent.rev, ":next": agent.rev + 1, ":at": at };
    const sets = ["rev = :next", "changed_at = :at"];
    const removes: string[] = [];
    Object.entries(change).forEach(([field, value], i) => {
      if (value === undefined) return;
      names[`#f${i}`] = field;
      if (value === null) removes.push(`#f${i}`);
      else {
        sets.push(`#f${i} = :v${i}`);
        values[`:v${i}`] = value;
      }
    });
    try {
      await this.write(calls, () => this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: agentKey(agent.agent_id),
          UpdateExpression: `SET ${sets.join(", ")}${removes.length ? ` REMOVE ${removes.join(", ")}` : ""}`,
          ConditionExpression: "rev = :rev",
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnConsumedCapacity: "TOTAL",
        }),
      ));
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  // ---- history ------------------------------------------------------------------------------

  async putTransitions(transitions: readonly TransitionRecord[], expiresAt: number, calls: FleetCalls): Promise<number> {
    const table = this.tableName;
    type PutEntry = { PutRequest: { Item: Record<string, unknown> } };
    const failed = await Promise.all(
      chunk(transitions, BATCH_WRITE_MAX_ITEMS).map((part) =>
        this.limit(async () => {
          const left = await drainUnprocessed(
            part.map((t): PutEntry => ({
              PutRequest: { Item: { pk: historyPk(t.agent_id), sk: `${new Date(t.at).toISOString()}#${t.kind}`, ...t, expires_at: expiresAt } },
            })),
            async (requests) => {
              calls.writes++;
              const out = await this.client.send(new BatchWriteCommand({ RequestItems: { [table]: [...requests] }, ReturnConsumedCapacity: "TOTAL" }));
              calls.writeUnits += out.ConsumedCapacity?.[0]?.CapacityUnits ?? requests.length;
              return (out.UnprocessedItems?.[table] ?? []).flatMap((r): PutEntry[] => (r.PutRequest?.Item ? [{ PutRequest: { Item: r.PutRequest.Item } }] : []));
            },
            this.retry,
          );
          return left.length;
        }),
      ),
    );
    return failed.reduce((a, b) => a + b, 0);
  }

  /** An agent's transitions, newest first; `before` is the sk to continue from. */
  async history(agentId: string, options: { limit: number; before?: string }, calls: FleetCalls): Promise<{ transitions: TransitionRecord[]; before?: string }> {
    const out = await this.read(calls, () => this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        ReturnConsumedCapacity: "TOTAL",
        KeyConditionExpression: options.before === undefined ? "pk = :pk" : "pk = :pk AND sk < :before",
        ExpressionAttributeValues: { ":pk": historyPk(agentId), ...(options.before === undefined ? {} : { ":before": options.before }) },
        ScanIndexForward: false,
        Limit: options.limit,
      }),
    ));
    const transitions = (out.Items ?? []).flatMap((raw) => {
      const parsed = transitionSchema.safeParse(raw);
      return parsed.success ? [parsed.data] : [];
    });
    const last = out.LastEvaluatedKey?.sk;
    return { transitions, ...(typeof last === "string" ? { before: last } : {}) };
  }

  // ---- meta and polls -----------------------------------------------------------------------

  async getMeta(sk: string, calls: FleetCalls): Promise<Record<string, unknown> | undefined> {
    const out = await this.read(calls, () => this.client.send(new GetCommand({ TableName: this.tableName, Key: { pk: META, sk }, ConsistentRead: true, ReturnConsumedCapacity: "TOTAL" })));
    return out.Item;
  }

  async putMeta(sk: string, fields: Record<string, unknown>, calls: FleetCalls): Promise<void> {
    await this.write(calls, () => this.client.send(new PutCommand({ TableName: this.tableName, Item: { ...fields, pk: META, sk }, ReturnConsumedCapacity: "TOTAL" })));
  }

  /** Creates a meta item only if absent; returns whether this call created it. */
  async createMeta(sk: string, fields: Record<string, unknown>, calls: FleetCalls): Promise<boolean> {
    return this.putNew({ ...fields, pk: META, sk }, calls);
  }

  async deleteMeta(sk: string, calls: FleetCalls): Promise<boolean> {
    try {
      await this.write(calls, () => this.client.send(new DeleteCommand({ TableName: this.tableName, Key: { pk: META, sk }, ConditionExpression: "attribute_exists(pk)" })));
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async deleteItem(pk: string, sk: string, calls: FleetCalls): Promise<void> {
    await this.write(calls, () => this.client.send(new DeleteCommand({ TableName: this.tableName, Key: { pk, sk } })));
  }

  /** Marks partitions as fully answered by a poll at `at` (never moving a partition's time back). */
  async markPolled(partitions: readonly number[], at: number, calls: FleetCalls): Promise<void> {
    if (partitions.length === 0) return;
    const names = Object.fromEntries(partitions.map((p) => [`#p${p}`, `p${pad(p)}`]));
    await this.write(calls, () => this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: META, sk: "polled" },
        UpdateExpression: `SET ${partitions.map((p) => `#p${p} = :at`).join(", ")}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: { ":at": at },
        ReturnConsumedCapacity: "TOTAL",
      }),
    ));
  }

  /** Per partition, when a poll last answered for all of it. */
  async polledAt(calls: FleetCalls): Promise<Map<number, number>> {
    const item = await this.getMeta("polled", calls);
    const out = new Map<number, number>();
    for (let p = 0; p < FLEET_PARTITIONS; p++) {
      const value = item?.[`p${pad(p)}`];
      if (typeof value === "number") out.set(p, value);
    }
    return out;
  }

  /** A new item, only if absent. */
  async putNew(item: Record<string, unknown>, calls: FleetCalls): Promise<boolean> {
    try {
      await this.write(calls, () => this.client.send(
        new PutCommand({ TableName: this.tableName, Item: item, ConditionExpression: "attribute_not_exists(pk)", ReturnConsumedCapacity: "TOTAL" }),
      ));
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /** Adds `delta` to a poll's count of shards still running; returns the new count. */
  async addPending(pollId: string, delta: number, calls: FleetCalls): Promise<number> {
    const out = await this.write(calls, () => this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: `poll#${pollId}`, sk: "run" },
        UpdateExpression: "ADD pending :d",
        ConditionExpression: "attribute_exists(pk)",
        ExpressionAttributeValues: { ":d": delta },
        ReturnValues: "UPDATED_NEW",
        ReturnConsumedCapacity: "TOTAL",
      }),
    ));
    return Number(out.Attributes?.pending ?? 0);
  }

  /**
   * Records a shard as done, once: returns the shards still running, or undefined when this shard
   * was recorded done before (a redelivered job must not finish the poll twice).
   */
  async shardDone(pollId: string, shard: string, calls: FleetCalls): Promise<number | undefined> {
    try {
      const out = await this.write(calls, () => this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: `poll#${pollId}`, sk: "run" },
          UpdateExpression: "ADD pending :minus, done :shard",
          ConditionExpression: "attribute_exists(pk) AND NOT contains(done, :one)",
          ExpressionAttributeValues: { ":minus": -1, ":shard": new Set([shard]), ":one": shard },
          ReturnValues: "UPDATED_NEW",
          ReturnConsumedCapacity: "TOTAL",
        }),
      ));
      return Number(out.Attributes?.pending ?? 0);
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  async markFinished(pollId: string, at: number, calls: FleetCalls): Promise<void> {
    calls.writes++;
    const out = await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: `poll#${pollId}`, sk: "run" },
        UpdateExpression: "SET finished_at = :at",
        ConditionExpression: "attribute_exists(pk)",
        ExpressionAttributeValues: { ":at": at },
        ReturnConsumedCapacity: "TOTAL",
      }),
    ).catch((error: unknown) => {
      if (isConditionFailure(error)) return undefined;
      throw error;
    });
    calls.writeUnits += out?.ConsumedCapacity?.CapacityUnits ?? 1;
  }

  /** Every item of one poll (its run item and shard results). */
  async pollItems(pollId: string, calls: FleetCalls): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.read(calls, () => this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          ReturnConsumedCapacity: "TOTAL",
          KeyConditionExpression: "pk = :pk",
          ExpressionAttributeValues: { ":pk": `poll#${pollId}` },
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      ));
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start !== undefined);
    return items;
  }
}
