/**
 * The fleet table (lib/resources.ts TABLES.fleet): the agents the heartbeat watches, each one's
 * polled state, its transitions, and the poll's own bookkeeping. Items, by key:
 *
 * | pk                  | sk                 | what                                                      |
 * |---------------------|--------------------|-----------------------------------------------------------|
 * | `fleet#NN`          | `agent#<id>`       | one watched agent: registry + state (NN = hash(id) mod 64) |
 * | `history#<id>`      | `<ISO time>#<kind>`| one transition of that agent                              |
 * | `meta`              | `polled`           | per partition: when a poll last answered for all of it (`pNN`), how many polls did (`nNN`), its revision (`rNN`) |
 * | `meta`              | `planner`          | last poll's fleet size and cost per agent (fan-out plan)  |
 * | `meta`              | `summary`          | the fleet view as of the last completed poll              |
 * | `meta`              | `gse_outage`       | present while GSE is failing polls (one alert per outage) |
 * | `poll#<id>`         | `run` / `shard#<k>`| one poll: shards still running, each shard's result       |
 * | `outbox`            | `alert#<alert_id>` | an alert until it is published (lib/core/outbox.ts)       |
 * | `alert#<kind>`      | `<fingerprint>`    | an alert published recently (dedup window, by TTL)        |
 * | `fleetstats#<day>`  | `<ISO time>`       | counts by status every 5 minutes, for the status page     |
 * | `alertlog#<day>`    | `<ISO time>#<id>`  | every alert published, for the status page (fleet-log.ts) |
 *
 * Agents are spread over 64 partitions so that no single partition key takes a 100,000-agent
 * fleet's reads and writes, and so a poll can be split into shards by partition.
 *
 * A partition's revision (`meta`/`polled` `rNN`) moves after every write of its agents (a
 * registration, an unregistration, labels, a source, a poll's changes): a warm heartbeat keeps the
 * fleet in memory and re-reads only partitions whose revision moved since it read them
 * (lib/heartbeat/fleet-cache.ts). Writers bump it after their write, never before, so a reader that
 * sees the new revision finds the write.
 */
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { Outbox, type OutboxEntry } from "../core/outbox.ts";
import { isConditionFailure } from "../dynamo/conditions.ts";
import { FleetAgentRecords } from "./agents-store.ts";
import { mark, META, partitionMarksOf, type FleetCalls, type PartitionMarks } from "./table.ts";

export * from "./items.ts";
export type { AgentChange, AgentPage } from "./agents-store.ts";
export { agentKey, newFleetCalls, partitionOf, type FleetCalls, type FleetStoreOptions, type PartitionMarks } from "./table.ts";

/** A meta item an alert reports, created (only if absent) or deleted (only if present) with it. */
/** Attempts of markPolled when a concurrent run of the same poll marked some of its partitions first. */
const MARK_ATTEMPTS = 3;

export type MetaChange = { readonly sk: string; readonly create: Record<string, unknown> } | { readonly sk: string; readonly create?: undefined };

/** The one object callers hold: agents and transitions (the classes it extends), meta items and poll bookkeeping. */
export class FleetStore extends FleetAgentRecords {
  /** The heartbeat's alerts on their way to the topic, in this table beside the state they report. */
  readonly outbox = new Outbox({ client: this.client, table: this.tableName });

  async getMeta(sk: string, calls: FleetCalls): Promise<Record<string, unknown> | undefined> {
    const out = await this.read(calls, () =>
      this.client.send(new GetCommand({ TableName: this.tableName, Key: { pk: META, sk }, ConsistentRead: true, ReturnConsumedCapacity: "TOTAL" })),
    );
    return out.Item;
  }

  async putMeta(sk: string, fields: Record<string, unknown>, calls: FleetCalls): Promise<void> {
    await this.write(calls, () =>
      this.client.send(new PutCommand({ TableName: this.tableName, Item: { ...fields, pk: META, sk }, ReturnConsumedCapacity: "TOTAL" })),
    );
  }

  /** Creates a meta item only if absent; returns whether this call created it. */
  async createMeta(sk: string, fields: Record<string, unknown>, calls: FleetCalls): Promise<boolean> {
    return this.putNew({ ...fields, pk: META, sk }, calls);
  }

  async deleteMeta(sk: string, calls: FleetCalls): Promise<boolean> {
    try {
      await this.write(calls, () =>
        this.client.send(new DeleteCommand({ TableName: this.tableName, Key: { pk: META, sk }, ConditionExpression: "attribute_exists(pk)" })),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async deleteItem(pk: string, sk: string, calls: FleetCalls): Promise<void> {
    await this.write(calls, () => this.client.send(new DeleteCommand({ TableName: this.tableName, Key: { pk, sk } })));
  }

  /**
   * Marks partitions as fully answered by the poll at `at` (its time, and one more poll counted:
   * what an agent's misses are derived from, lib/fleet/view-rules.ts missesOf) and moves the
   * revision of the partitions whose agents it wrote. A partition already marked by this poll or a
   * later one is not marked (nor counted) again: a re-run of a shard counts each poll once.
   * Returns the written partitions' revisions after this write.
   */
  async markPolled(partitions: readonly number[], at: number, calls: FleetCalls, written: readonly number[] = []): Promise<Map<number, number>> {
    let complete = [...partitions];
    for (let attempt = 1; ; attempt++) {
      if (complete.length === 0 && written.length === 0) return new Map();
      try {
        return await this.updateMarks(complete, at, written, calls);
      } catch (error) {
        if (!isConditionFailure(error) || attempt >= MARK_ATTEMPTS) throw error;
        const marks = await this.partitionMarks(calls);
        complete = complete.filter((p) => (marks.polledAt.get(p) ?? -Infinity) < at);
      }
    }
  }

  private async updateMarks(complete: readonly number[], at: number, written: readonly number[], calls: FleetCalls): Promise<Map<number, number>> {
    const names: Record<string, string> = {};
    for (const p of complete) Object.assign(names, { [`#p${p}`]: mark("p", p), [`#n${p}`]: mark("n", p) });
    for (const p of written) names[`#r${p}`] = mark("r", p);
    // Short forms throughout: 64 partitions must fit DynamoDB's 4 KB per expression. A missing pNN compares false, so NOT holds.
    const sets = complete.map((p) => `#p${p} = :at`);
    const adds = [...complete.map((p) => `#n${p} :one`), ...written.map((p) => `#r${p} :one`)];
    const out = await this.write(calls, () =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: META, sk: "polled" },
          UpdateExpression: [sets.length ? `SET ${sets.join(", ")}` : "", adds.length ? `ADD ${adds.join(", ")}` : ""].join(" ").trim(),
          ...(complete.length ? { ConditionExpression: complete.map((p) => `NOT #p${p} >= :at`).join(" AND ") } : {}),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ":one": 1, ...(complete.length ? { ":at": at } : {}) },
          ReturnValues: "UPDATED_NEW",
          ReturnConsumedCapacity: "TOTAL",
        }),
      ),
    );
    return new Map(written.map((p) => [p, Number(out.Attributes?.[mark("r", p)] ?? 0)]));
  }

  /** Per partition, when a poll last answered for all of it. */
  async polledAt(calls: FleetCalls): Promise<Map<number, number>> {
    return new Map((await this.partitionMarks(calls)).polledAt);
  }

  /** `meta`/`polled` read once: every partition's polled time, count of polls and revision. */
  async partitionMarks(calls: FleetCalls): Promise<PartitionMarks> {
    return partitionMarksOf(await this.getMeta("polled", calls));
  }

  /** A new item, only if absent. */
  async putNew(item: Record<string, unknown>, calls: FleetCalls): Promise<boolean> {
    try {
      await this.write(calls, () =>
        this.client.send(
          new PutCommand({ TableName: this.tableName, Item: item, ConditionExpression: "attribute_not_exists(pk)", ReturnConsumedCapacity: "TOTAL" }),
        ),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /**
   * A new item, only if absent, and an alert's outbox item in the same transaction, with the meta
   * change the alert reports (`meta`: the GSE outage marker opened or closed): false (and nothing
   * written) when the item was there already or the meta change's condition failed.
   */
  async putNewWithAlert(item: Record<string, unknown>, entry: OutboxEntry, now: number, calls: FleetCalls, meta?: MetaChange): Promise<boolean> {
    calls.writes++;
    const metaWrite =
      meta === undefined
        ? []
        : meta.create !== undefined
          ? [{ Put: { TableName: this.tableName, Item: { ...meta.create, pk: META, sk: meta.sk }, ConditionExpression: "attribute_not_exists(pk)" } }]
          : [{ Delete: { TableName: this.tableName, Key: { pk: META, sk: meta.sk }, ConditionExpression: "attribute_exists(pk)" } }];
    const written = await this.outbox.putWith(
      [{ Put: { TableName: this.tableName, Item: item, ConditionExpression: "attribute_not_exists(pk)" } }, ...metaWrite],
      entry,
      now,
    );
    if (!written) return false;
    calls.writeUnits += written.writeUnits ?? 4;
    return true;
  }

  /** Adds `delta` to a poll's count of shards still running; returns the new count. */
  async addPending(pollId: string, delta: number, calls: FleetCalls): Promise<number> {
    const out = await this.write(calls, () =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: `poll#${pollId}`, sk: "run" },
          UpdateExpression: "ADD pending :d",
          ConditionExpression: "attribute_exists(pk)",
          ExpressionAttributeValues: { ":d": delta },
          ReturnValues: "UPDATED_NEW",
          ReturnConsumedCapacity: "TOTAL",
        }),
      ),
    );
    return Number(out.Attributes?.pending ?? 0);
  }

  /**
   * Records a shard as done, once: returns the shards still running, or undefined when this shard
   * was recorded done before (a redelivered job must not finish the poll twice).
   */
  async shardDone(pollId: string, shard: string, calls: FleetCalls): Promise<number | undefined> {
    try {
      const out = await this.write(calls, () =>
        this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { pk: `poll#${pollId}`, sk: "run" },
            UpdateExpression: "ADD pending :minus, done :shard",
            ConditionExpression: "attribute_exists(pk) AND NOT contains(done, :one)",
            ExpressionAttributeValues: { ":minus": -1, ":shard": new Set([shard]), ":one": shard },
            ReturnValues: "UPDATED_NEW",
            ReturnConsumedCapacity: "TOTAL",
          }),
        ),
      );
      return Number(out.Attributes?.pending ?? 0);
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  /** True for the one finish that marked the poll; false when it was finished already (or is unknown). */
  async markFinished(pollId: string, at: number, calls: FleetCalls): Promise<boolean> {
    calls.writes++;
    const out = await this.client
      .send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: `poll#${pollId}`, sk: "run" },
          UpdateExpression: "SET finished_at = :at",
          ConditionExpression: "attribute_exists(pk) AND attribute_not_exists(finished_at)",
          ExpressionAttributeValues: { ":at": at },
          ReturnConsumedCapacity: "TOTAL",
        }),
      )
      .catch((error: unknown) => {
        if (isConditionFailure(error)) return undefined;
        throw error;
      });
    calls.writeUnits += out?.ConsumedCapacity?.CapacityUnits ?? 1;
    return out !== undefined;
  }

  /** Every item of one poll (its run item and shard results). */
  pollItems(pollId: string, calls: FleetCalls): Promise<Record<string, unknown>[]> {
    return this.queryAll(calls, `poll#${pollId}`);
  }
}
