/**
 * Queue and stream records, read by Powertools' event schemas (copied in ./record-schemas.ts) inside
 * Powertools' BatchProcessor:
 * each record is checked against its event source's shape (and our payload schema, when one is
 * given) before its handler runs. A record that does not fit is one failed record of the batch
 * (partial batch response), logged with the field at fault; the rest of the batch runs.
 */
import { BatchProcessor, EventType, ParsingError, processPartialResponse } from "@aws-lambda-powertools/batch";
import type { parser } from "@aws-lambda-powertools/batch/parser";
import type { Logger } from "@aws-lambda-powertools/logger";
import type { Context } from "aws-lambda";
import * as z from "zod";
import {
  dynamoDBMarshalled,
  jsonStringified,
  snsSqsNotificationSchema,
  sqsRecordSchema,
  streamChangeBaseSchema,
  streamRecordBaseSchema,
} from "./record-schemas.ts";

/** An SQS record as Lambda delivers it; `body` the text sent. */
export const queueRecordSchema = sqsRecordSchema;
export type QueueRecord = z.infer<typeof queueRecordSchema>;

/** An SQS record whose body is JSON of `body`'s shape. */
export const queueRecordOf = <S extends z.ZodType>(body: S) => sqsRecordSchema.extend({ body: jsonStringified(body) });

/** An item image, unmarshalled; each rule reads its table's items by its own schemas. */
const imageSchema = dynamoDBMarshalled(z.record(z.string(), z.unknown()));

/** A DynamoDB stream record; NewImage and OldImage unmarshalled into plain values (Keys as sent). */
export const streamRecordSchema = streamRecordBaseSchema.extend({
  dynamodb: streamChangeBaseSchema.extend({ NewImage: imageSchema.optional(), OldImage: imageSchema.optional() }),
});
export type StreamRecord = z.infer<typeof streamRecordSchema>;

/** SNS's envelope around a message it delivered to an SQS queue (raw delivery off). */
export const snsInSqsSchema = jsonStringified(snsSqsNotificationSchema);

export type BatchResponse = { batchItemFailures: { itemIdentifier: string }[] };

/** The id Lambda's partial batch response names a record by (SQS message id, stream sequence number). */
function recordIdOf(record: unknown): string | undefined {
  const r = record as { messageId?: unknown; dynamodb?: { SequenceNumber?: unknown } };
  const id = r.messageId ?? r.dynamodb?.SequenceNumber;
  return typeof id === "string" ? id : undefined;
}

/**
 * Powertools' batch parser (`@aws-lambda-powertools/batch/parser`) as it treats a full `schema`:
 * the record parsed by it, a misfit thrown as ParsingError naming each field at fault. Powertools'
 * own goes through its parser package, which brings every zod locale (lib/core/record-schemas.ts).
 */
const parseRecord: typeof parser = async (record, _eventType, logger, config) => {
  const result = (config.schema as z.ZodType).safeParse(record);
  if (result.success) return result.data as Awaited<ReturnType<typeof parser>>;
  const message = result.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ");
  logger.debug(`Failed to parse record: ${message}`);
  throw new ParsingError(message);
};

/**
 * A batch whose records are parsed by `schema` before `handle` runs. Records run in parallel,
 * each failure is reported alone; when every record fails, the batch fails (Powertools' default).
 */
export class ParsedBatch<S extends z.ZodType> {
  readonly #processor: BatchProcessor;

  constructor(
    eventType: "sqs" | "stream",
    schema: S,
    private readonly logger: Logger,
  ) {
    this.#processor = new BatchProcessor(eventType === "sqs" ? EventType.SQS : EventType.DynamoDBStreams, { parser: parseRecord, schema, logger });
  }

  async process(event: { Records: unknown[] }, handle: (record: z.output<S>) => Promise<unknown>, context?: Context): Promise<BatchResponse> {
    try {
      return await processPartialResponse(event as { Records: Record<string, unknown>[] }, handle, this.#processor, context ? { context } : undefined);
    } finally {
      this.logRefused();
    }
  }

  /** Records that did not fit their schema: which one, and each field at fault (`path: message`). */
  private logRefused(): void {
    const { errors, failureMessages } = this.#processor;
    errors.forEach((error, index) => {
      if (!(error instanceof ParsingError)) return;
      this.logger.warn("record refused by its schema", { record_id: recordIdOf(failureMessages[index]), issues: error.message });
    });
  }
}
