import type { Logger } from "@aws-lambda-powertools/logger";
import type { StreamRecord } from "../core/records.ts";
import type { TableKey } from "../resources.ts";

/** What recovery does with one stream record of one table (its images unmarshalled). Throwing marks the record failed. */
export type RecoveryRule = (record: StreamRecord) => Promise<void>;

/** `arn:aws:dynamodb:<region>:<account>:table/<name>/stream/<label>` → the table's name. */
export function tableNameOfStream(eventSourceArn: string | undefined): string | undefined {
  return /:table\/([^/]+)\/stream\//.exec(eventSourceArn ?? "")?.[1];
}

/** The tables whose streams recovery reads, by key: their names tell records apart. */
export type StreamTables = Partial<Record<TableKey, string>>;

export function tableKeyOf(tables: StreamTables, eventSourceArn: string | undefined): TableKey | undefined {
  const name = tableNameOfStream(eventSourceArn);
  const entry = Object.entries(tables).find(([, tableName]) => tableName === name);
  return entry?.[0] as TableKey | undefined;
}

/**
 * Routes a record to its table's rule. A record of a table without a rule is acknowledged, so
 * nothing piles up on the stream.
 */
export function createRecoveryRouter(options: {
  tables: StreamTables;
  rules: Partial<Record<TableKey, RecoveryRule>>;
  logger: Logger;
}): (record: StreamRecord) => Promise<void> {
  return async function recoverRecord(record) {
    const table = tableKeyOf(options.tables, record.eventSourceARN);
    if (!table) throw new Error(`record from an unknown stream: ${record.eventSourceARN}`);
    const rule = options.rules[table];
    options.logger.debug("stream record", {
      table,
      event: record.eventName,
      sequence: record.dynamodb.SequenceNumber,
      handled: rule !== undefined,
    });
    if (rule) await rule(record);
  };
}
