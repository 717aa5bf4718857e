import { createHash } from "node:crypto";
import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import { BatchTable, type BatchStoreOptions } from "../dynamo/batch.ts";
import { FLEET_PARTITIONS } from "./items.ts";

export function partitionOf(agentId: string): number {
  return createHash("md5").update(agentId).digest().readUInt32BE(0) % FLEET_PARTITIONS;
}

/** A partition number as keys spell it: two digits. */
export const pad = (n: number): string => String(n).padStart(2, "0");
export const agentKey = (agentId: string) => ({ pk: `fleet#${pad(partitionOf(agentId))}`, sk: `agent#${agentId}` });
export const partitionPk = (partition: number): string => `fleet#${pad(partition)}`;
export const historyPk = (agentId: string): string => `history#${agentId}`;
export const META = "meta";

/** Per partition, from `meta`/`polled`: when a poll last answered for all of it, how many polls did, and its revision. */
export interface PartitionMarks {
  readonly polledAt: ReadonlyMap<number, number>;
  readonly polls: ReadonlyMap<number, number>;
  readonly revisions: ReadonlyMap<number, number>;
}

/** A partition's attribute in `meta`/`polled`: `p` its polled time, `n` its count of polls, `r` its revision. */
export const mark = (kind: "p" | "n" | "r", p: number): string => `${kind}${pad(p)}`;

/** The marks of a `meta`/`polled` item (absent: none), for the poll's store and the agent-state reader alike. */
export function partitionMarksOf(item: Record<string, unknown> | undefined): PartitionMarks {
  const of = (kind: "p" | "n" | "r"): Map<number, number> => {
    const out = new Map<number, number>();
    for (let p = 0; p < FLEET_PARTITIONS; p++) {
      const value = item?.[mark(kind, p)];
      if (typeof value === "number") out.set(p, value);
    }
    return out;
  };
  return { polledAt: of("p"), polls: of("n"), revisions: of("r") };
}

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
export type Consumed = { readonly CapacityUnits?: number | undefined };
export const readUnitsOf = (consumed: Consumed | readonly Consumed[] | undefined): number =>
  [consumed ?? []].flat().reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0);

export type FleetStoreOptions = BatchStoreOptions;

export class FleetTable extends BatchTable {
  constructor(options: FleetStoreOptions) {
    super(options, 16);
  }

  /** One read call, counted with the read units DynamoDB reports. */
  protected async read<O extends { ConsumedCapacity?: Consumed | Consumed[] | undefined }>(calls: FleetCalls, send: () => Promise<O>): Promise<O> {
    calls.reads++;
    const out = await send();
    calls.readUnits += readUnitsOf(out.ConsumedCapacity);
    return out;
  }

  /** Every item of one partition key (those whose sk starts with `skPrefix`), read consistently, page after page. */
  protected async queryAll(calls: FleetCalls, pk: string, skPrefix?: string): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.read(calls, () =>
        this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            ReturnConsumedCapacity: "TOTAL",
            KeyConditionExpression: skPrefix === undefined ? "pk = :pk" : "pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues: { ":pk": pk, ...(skPrefix === undefined ? {} : { ":prefix": skPrefix }) },
            ConsistentRead: true,
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        ),
      );
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start !== undefined);
    return items;
  }

  /** One single-item write, counted with the write units DynamoDB reports (1 where it reports none). Counted as a call even when it throws. */
  protected async write<O extends { ConsumedCapacity?: Consumed | undefined }>(calls: FleetCalls, send: () => Promise<O>): Promise<O> {
    calls.writes++;
    const out = await send();
    calls.writeUnits += out.ConsumedCapacity?.CapacityUnits ?? 1;
    return out;
  }
}
