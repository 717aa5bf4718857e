/**
 * The slot forward: GSE posts every upstream message of the slot to our callback, so bk-monitor's
 * own slot handler (`/api/v4/bk_gse_slot/`) no longer sees its plugin's requests (bkmonitorbeat's
 * fetch/host/dataid) and never answers them. The callback keeps each unsolicited message and queues
 * it (`slotForwarder`); this consumer POSTs it on as GSE would have: the same JSON body
 * `{message_id, bk_agent_id, content}`, `Content-Type: application/json`, no credentials (GSE sends
 * none, bk-monitor's handler is login-exempt: docs/gse-contract.md §5.4).
 *
 * Retries: a 5xx, 429, timeout or unreachable target leaves the message on the queue with its
 * visibility stretched (backoff by receive count); after the queue's last receive SQS moves it to the
 * dead-letter queue. Another 4xx is final: the target refuses this message and would again.
 * Once: each delivery is recorded under `forwarded#<message_id>` (the agent in the sort key),
 * checked before a POST, so a message SQS delivers again after a POST that went through is not
 * POSTed twice (a crash between the POST and the record, or a copy received in that moment, can
 * still repeat it: at least once; a claim before the POST would close the second case).
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { ChangeMessageVisibilityCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { Dispatcher } from "undici";
import type { z } from "zod";
import { withLogKeys } from "../core/logger.ts";
import { queueRecordOf } from "../core/records.ts";
import { slotCallbackSchema, type SlotCallback } from "../gse/schemas.ts";
import { TABLES } from "../resources.ts";

/** A queued upstream message: the callback GSE posted. */
export const forwardRecordSchema = queueRecordOf(slotCallbackSchema);
export type ForwardRecord = z.infer<typeof forwardRecordSchema>;

export const forwardedPk = (messageId: string): string => `forwarded#${messageId}`;

export type ForwardOutcome = "delivered" | "refused";

/** The commands table's record of each message handed on: the forward's idempotency key. */
export class ForwardLedger {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async outcomeOf(callback: SlotCallback): Promise<ForwardOutcome | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: forwardedPk(callback.message_id), sk: callback.bk_agent_id }, ConsistentRead: true }),
    );
    return Item?.outcome as ForwardOutcome | undefined;
  }

  /** Records the outcome once; a second record of the same message is a no-op. */
  async record(callback: SlotCallback, outcome: ForwardOutcome, status: number, now: number, retentionMs: number): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            pk: forwardedPk(callback.message_id),
            sk: callback.bk_agent_id,
            outcome,
            status,
            at: now,
            [TABLES.commands.ttlAttribute]: Math.floor((now + retentionMs) / 1000),
          },
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
}

export interface ForwardDeps {
  readonly url: string;
  readonly http: Dispatcher;
  readonly ledger: ForwardLedger;
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly logger: Logger;
  readonly now: () => number;
  readonly retentionMs: number;
  readonly timeoutMs: number;
  readonly retryBaseSeconds: number;
  readonly retryMaxSeconds: number;
}

/** A try that may go through later (5xx, 429, timeout, unreachable): SQS receives it again. */
export class ForwardRetryError extends Error {
  constructor(message: string, options?: { cause: unknown }) {
    super(message, options);
    this.name = "ForwardRetryError";
  }
}

/** SQS's longest visibility timeout: 12 hours. */
const MAX_VISIBILITY_SECONDS = 43_200;

/** The wait before receive `receives + 1`: base, doubled per receive, capped. */
export function retryDelaySeconds(receives: number, baseSeconds: number, maxSeconds: number): number {
  const delay = baseSeconds * 2 ** Math.max(0, receives - 1);
  return Math.min(delay, maxSeconds, MAX_VISIBILITY_SECONDS);
}

/** What a target's status means for the message. */
export function classifyStatus(status: number): ForwardOutcome | "retry" {
  if (status >= 200 && status < 300) return "delivered";
  if (status === 429 || status >= 500) return "retry";
  // 3xx (undici follows none) and 4xx: the target refuses this very message; repeating it cannot help.
  return "refused";
}

async function post(deps: ForwardDeps, callback: SlotCallback): Promise<number> {
  try {
    const target = new URL(deps.url);
    const response = await deps.http.request({
      origin: target.origin,
      path: `${target.pathname}${target.search}`,
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(callback),
      headersTimeout: deps.timeoutMs,
      bodyTimeout: deps.timeoutMs,
      signal: AbortSignal.timeout(deps.timeoutMs),
    });
    await response.body.dump();
    return response.statusCode;
  } catch (error) {
    throw new ForwardRetryError(`target unreachable or too slow: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

/** Leaves the message invisible for the backoff; SQS makes it visible (receives it again) after. */
async function backOff(deps: ForwardDeps, record: ForwardRecord): Promise<number> {
  const receives = Number(record.attributes.ApproximateReceiveCount);
  const seconds = retryDelaySeconds(Number.isFinite(receives) ? receives : 1, deps.retryBaseSeconds, deps.retryMaxSeconds);
  await deps.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: deps.queueUrl, ReceiptHandle: record.receiptHandle, VisibilityTimeout: seconds }));
  return seconds;
}

/** One queued upstream message to the target; throws (the record fails) when it is to be tried again. */
export async function forwardRecord(deps: ForwardDeps, record: ForwardRecord): Promise<ForwardOutcome | "already"> {
  const callback = record.body;
  return withLogKeys({ message_id: callback.message_id, bk_agent_id: callback.bk_agent_id }, async () => {
    if ((await deps.ledger.outcomeOf(callback)) !== undefined) {
      deps.logger.info("slot message already forwarded", { sqs_message_id: record.messageId });
      return "already";
    }
    let status: number;
    let outcome: ForwardOutcome | "retry";
    try {
      status = await post(deps, callback);
      outcome = classifyStatus(status);
    } catch (error) {
      if (!(error instanceof ForwardRetryError)) throw error;
      const seconds = await backOff(deps, record);
      deps.logger.warn("slot forward failed, retried later", {
        reason: error.message,
        retry_in_seconds: seconds,
        receives: record.attributes.ApproximateReceiveCount,
      });
      throw error;
    }
    if (outcome === "retry") {
      const seconds = await backOff(deps, record);
      deps.logger.warn("slot forward failed, retried later", { status, retry_in_seconds: seconds, receives: record.attributes.ApproximateReceiveCount });
      throw new ForwardRetryError(`target answered ${status}`);
    }
    await deps.ledger.record(callback, outcome, status, deps.now(), deps.retentionMs);
    if (outcome === "refused") deps.logger.warn("slot forward refused by the target, not retried", { status, refused: 1 });
    else deps.logger.info("slot message forwarded", { status });
    return outcome;
  });
}
