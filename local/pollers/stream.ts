import { DescribeTableCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  DescribeStreamCommand,
  ExpiredIteratorException,
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  TrimmedDataAccessException,
  type _Record as StreamRecord,
  type AttributeValue,
  type DynamoDBStreamsClient,
  type Shard,
} from "@aws-sdk/client-dynamodb-streams";
import type { DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";
import { LOCAL_REGION } from "../aws.ts";
import { readBatchResponse } from "./batch-response.ts";
import type { CheckpointStore } from "./checkpoints.ts";
import { passesFilters } from "./filters.ts";
import { PollingLoop } from "./loop.ts";
import type { FilterPattern } from "../../lib/wiring.ts";

/** Records per GetRecords call: DynamoDB Streams' maximum; batches to the function are cut from them. */
const READ_LIMIT = 1000;

export interface StreamPollerOptions {
  readonly dynamo: DynamoDBClient;
  readonly streams: DynamoDBStreamsClient;
  readonly tableName: string;
  readonly batchSize: number;
  readonly maxRetryAttempts: number;
  readonly bisectBatchOnError: boolean;
  /** Lambda event filter patterns (lib/wiring.ts); none = every record. */
  readonly filters?: readonly FilterPattern[];
  readonly invoke: (event: DynamoDBStreamEvent) => Promise<unknown>;
  readonly checkpoints: CheckpointStore;
  readonly idleMs?: number;
  /** Records given up on after the last retry (Lambda's on-failure destination). */
  readonly onDiscard?: (records: readonly DynamoDBRecord[], reason: unknown) => void;
  readonly onInvoke?: (summary: { records: number; failed: number; keys?: readonly string[]; error?: unknown }) => void;
}

/** `pk=a,sk=b`: enough to find a record in the local logs without dumping its images. */
function describeKeys(record: DynamoDBRecord): string {
  return Object.entries(record.dynamodb?.Keys ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, value]) => `${name}=${value.S ?? value.N ?? "?"}`)
    .join(",");
}

interface ShardState {
  iterator: string | undefined;
  closed: boolean;
  /** Attempts at the current first record; reset when the position moves. */
  attempts: number;
  /** Smaller batches while a thrown error is being isolated (bisect). */
  limit: number;
}

type LambdaAttributeValue = NonNullable<DynamoDBRecord["dynamodb"]>["Keys"] extends infer M ? (M extends Record<string, infer V> ? V : never) : never;

/** The SDK gives binary as bytes and dates as Date; Lambda's JSON event has base64 and epoch seconds. */
function toLambdaValue(value: AttributeValue): LambdaAttributeValue {
  if (value.B !== undefined) return { B: Buffer.from(value.B).toString("base64") };
  if (value.BS !== undefined) return { BS: value.BS.map((b) => Buffer.from(b).toString("base64")) };
  if (value.M !== undefined) return { M: toLambdaImage(value.M) } as LambdaAttributeValue;
  if (value.L !== undefined) return { L: value.L.map(toLambdaValue) } as LambdaAttributeValue;
  const { $unknown: _unknown, ...plain } = value as AttributeValue & { $unknown?: unknown };
  return plain as LambdaAttributeValue;
}

function toLambdaImage(image: Record<string, AttributeValue> | undefined): Record<string, LambdaAttributeValue> | undefined {
  if (!image) return undefined;
  return Object.fromEntries(Object.entries(image).map(([k, v]) => [k, toLambdaValue(v)]));
}

export function toLambdaRecord(record: StreamRecord, streamArn: string): DynamoDBRecord {
  const data = record.dynamodb ?? {};
  const keys = toLambdaImage(data.Keys);
  const newImage = toLambdaImage(data.NewImage);
  const oldImage = toLambdaImage(data.OldImage);
  return {
    eventID: record.eventID,
    eventName: record.eventName,
    eventVersion: record.eventVersion ?? "1.1",
    eventSource: "aws:dynamodb",
    awsRegion: record.awsRegion ?? LOCAL_REGION,
    eventSourceARN: streamArn,
    // TTL deletes carry who deleted the item; Lambda's event spells the keys in camel case.
    ...(record.userIdentity?.Type && record.userIdentity.PrincipalId
      ? { userIdentity: { type: record.userIdentity.Type, principalId: record.userIdentity.PrincipalId } }
      : {}),
    dynamodb: {
      ...(data.ApproximateCreationDateTime ? { ApproximateCreationDateTime: Math.floor(data.ApproximateCreationDateTime.getTime() / 1000) } : {}),
      ...(keys ? { Keys: keys } : {}),
      ...(newImage ? { NewImage: newImage } : {}),
      ...(oldImage ? { OldImage: oldImage } : {}),
      ...(data.SequenceNumber ? { SequenceNumber: data.SequenceNumber } : {}),
      ...(data.SizeBytes !== undefined ? { SizeBytes: data.SizeBytes } : {}),
      ...(data.StreamViewType ? { StreamViewType: data.StreamViewType } : {}),
    },
  };
}

/**
 * Reads a table's stream and invokes a function the way Lambda's event source mapping does:
 * in order per shard, ReportBatchItemFailures (resume at the first failed record), bisect on a
 * thrown error, and after maxRetryAttempts the records are handed to onDiscard and skipped.
 * Positions are checkpointed, so a restart resumes where it stopped.
 */
export class StreamPoller extends PollingLoop {
  private readonly shards = new Map<string, ShardState>();
  private streamArn: string | undefined;
  /** Set by a pass in which the function failed, so the loop backs off before retrying. */
  private failedInPass = false;

  constructor(private readonly options: StreamPollerOptions) {
    super();
  }

  protected async pass(): Promise<boolean> {
    const delivered = await this.pollOnce();
    return delivered === 0 || this.failedInPass;
  }

  protected waitMs(): number {
    return this.options.idleMs ?? 250;
  }

  protected onPassError(error: unknown): void {
    this.options.onInvoke?.({ records: 0, failed: 0, error });
  }

  /** One pass over every readable shard; returns how many records were handed to the function. */
  async pollOnce(): Promise<number> {
    this.failedInPass = false;
    const streamArn = await this.resolveStreamArn();
    await this.discoverShards(streamArn);
    let handled = 0;
    for (const [shardId, state] of this.shards) {
      if (state.closed) continue;
      handled += await this.pollShard(streamArn, shardId, state);
    }
    return handled;
  }

  private async resolveStreamArn(): Promise<string> {
    if (this.streamArn) return this.streamArn;
    const table = await this.options.dynamo.send(new DescribeTableCommand({ TableName: this.options.tableName }));
    const arn = table.Table?.LatestStreamArn;
    if (!arn) throw new Error(`table ${this.options.tableName} has no stream`);
    this.streamArn = arn;
    return arn;
  }

  private async discoverShards(streamArn: string): Promise<void> {
    const all: Shard[] = [];
    let start: string | undefined;
    do {
      const page = await this.options.streams.send(new DescribeStreamCommand({ StreamArn: streamArn, ExclusiveStartShardId: start }));
      all.push(...(page.StreamDescription?.Shards ?? []));
      start = page.StreamDescription?.LastEvaluatedShardId;
    } while (start);
    const known = new Set(all.map((s) => s.ShardId));
    for (const shard of all) {
      if (!shard.ShardId || this.shards.has(shard.ShardId)) continue;
      // A child shard waits until its parent is drained, so records stay in order per key.
      const parent = shard.ParentShardId;
      if (parent && known.has(parent) && !this.shards.get(parent)?.closed) continue;
      this.shards.set(shard.ShardId, { iterator: undefined, closed: false, attempts: 0, limit: this.options.batchSize });
    }
  }

  private async iteratorFor(streamArn: string, shardId: string): Promise<string | undefined> {
    const after = this.options.checkpoints.get(streamArn, shardId);
    const result = await this.options.streams.send(
      new GetShardIteratorCommand({
        StreamArn: streamArn,
        ShardId: shardId,
        ...(after ? { ShardIteratorType: "AFTER_SEQUENCE_NUMBER", SequenceNumber: after } : { ShardIteratorType: "TRIM_HORIZON" }),
      }),
    );
    return result.ShardIterator;
  }

  private async pollShard(streamArn: string, shardId: string, state: ShardState): Promise<number> {
    state.iterator ??= await this.iteratorFor(streamArn, shardId);
    if (!state.iterator) {
      state.closed = true;
      return 0;
    }
    let page: GetRecordsCommandOutput;
    try {
      page = await this.options.streams.send(new GetRecordsCommand({ ShardIterator: state.iterator, Limit: READ_LIMIT }));
    } catch (error) {
      if (error instanceof ExpiredIteratorException || error instanceof TrimmedDataAccessException) {
        state.iterator = undefined;
        return 0;
      }
      throw error;
    }
    const records = page.Records ?? [];
    if (records.length === 0) {
      state.iterator = page.NextShardIterator;
      if (!state.iterator) state.closed = true;
      return 0;
    }
    const all = records.map((r) => toLambdaRecord(r, streamArn));
    const allIds = all.map((r) => r.dynamodb?.SequenceNumber ?? "");
    const lastId = allIds[allIds.length - 1] as string;
    // Records no filter lets through are consumed without invoking anything, as Lambda does.
    const lambdaRecords = all.filter((r) => passesFilters(r, this.options.filters ?? []));
    if (lambdaRecords.length === 0) {
      this.advance(streamArn, shardId, state, lastId, page.NextShardIterator);
      return 0;
    }
    // Lambda reads many records, filters, then invokes in batches of batchSize: so does this.
    const size = Math.max(1, Math.min(this.options.batchSize, state.limit));
    let invoked = 0;
    for (let from = 0; from < lambdaRecords.length; from += size) {
      const chunk = lambdaRecords.slice(from, from + size);
      const ids = chunk.map((r) => r.dynamodb?.SequenceNumber ?? "");
      let outcome: ReturnType<typeof readBatchResponse>;
      try {
        outcome = readBatchResponse(await this.options.invoke({ Records: chunk }), ids);
      } catch (error) {
        outcome = { kind: "error" as const, error };
      }
      const firstFailed = outcome.kind === "ok" ? chunk.length : outcome.kind === "partial" ? ids.findIndex((id) => outcome.failedIds.has(id)) : 0;
      this.options.onInvoke?.({
        records: chunk.length,
        failed: chunk.length - firstFailed,
        keys: chunk.map(describeKeys),
        ...(outcome.kind === "error" ? { error: outcome.error } : {}),
      });
      invoked += chunk.length;
      if (firstFailed === chunk.length) continue;

      this.failedInPass = true;
      // Position just before the first failed record, counting filtered-out records too.
      const failedAt = allIds.indexOf(ids[firstFailed] as string);
      if (failedAt > 0) this.options.checkpoints.set(streamArn, shardId, allIds[failedAt - 1] as string);
      state.attempts = failedAt > 0 ? 1 : state.attempts + 1;
      if (outcome.kind === "error" && this.options.bisectBatchOnError && chunk.length > 1) {
        state.limit = Math.max(1, Math.ceil(chunk.length / 2));
      }
      if (state.attempts > this.options.maxRetryAttempts) {
        const discarded = chunk.slice(firstFailed);
        this.options.onDiscard?.(discarded, outcome.kind === "error" ? outcome.error : "batch item failures after the last retry");
        // Past the discarded records; whatever came after them in this page is read again.
        const lastDiscarded = allIds.indexOf(ids[ids.length - 1] as string);
        this.options.checkpoints.set(streamArn, shardId, allIds[lastDiscarded] as string);
        state.iterator = undefined;
        state.attempts = 0;
        state.limit = this.options.batchSize;
        return invoked;
      }
      // Re-read from the first failed record on the next pass.
      state.iterator = undefined;
      return invoked;
    }
    this.advance(streamArn, shardId, state, lastId, page.NextShardIterator);
    return invoked;
  }

  private advance(streamArn: string, shardId: string, state: ShardState, lastId: string, next: string | undefined): void {
    this.options.checkpoints.set(streamArn, shardId, lastId);
    state.iterator = next;
    state.attempts = 0;
    state.limit = this.options.batchSize;
    if (!next) state.closed = true;
  }
}
