import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/** Where a stream poller resumes after a restart: the last sequence number handled per shard. */
export interface CheckpointStore {
  get(streamArn: string, shardId: string): string | undefined;
  set(streamArn: string, shardId: string, sequenceNumber: string): void;
}

export function memoryCheckpoints(): CheckpointStore {
  const map = new Map<string, string>();
  return {
    get: (arn, shard) => map.get(`${arn}|${shard}`),
    set: (arn, shard, seq) => void map.set(`${arn}|${shard}`, seq),
  };
}

/** Written through on every change (atomic rename), so a crash loses at most the batch in flight. */
export function fileCheckpoints(path: string): CheckpointStore {
  const state: Record<string, string> = existsSync(path) ? (JSON.parse(readFileSync(path, "utf8")) as Record<string, string>) : {};
  mkdirSync(dirname(path), { recursive: true });
  return {
    get: (arn, shard) => state[`${arn}|${shard}`],
    set: (arn, shard, seq) => {
      state[`${arn}|${shard}`] = seq;
      writeFileSync(`${path}.tmp`, JSON.stringify(state));
      renameSync(`${path}.tmp`, path);
    },
  };
}
