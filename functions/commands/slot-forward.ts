import type { SQSHandler } from "aws-lambda";
import { ForwardLedger, forwardRecord, forwardRecordSchema, type ForwardRecord } from "../../lib/commands/forward.ts";
import { documentClient } from "../../lib/core/aws.ts";
import { queueUrlOf, tableOf } from "../../lib/core/config.ts";
import { functionContext } from "../../lib/core/function.ts";
import { sqsClient } from "../../lib/core/queue.ts";
import { ParsedBatch } from "../../lib/core/records.ts";
import { Agent } from "../../lib/core/undici.ts";

const { config, logger } = await functionContext("gse_slot_forward");
const { url, timeoutMs, retryBaseSeconds, retryMaxSeconds } = config.slotForward;
const deps = url
  ? {
      url,
      http: new Agent({ connections: 10 }),
      ledger: new ForwardLedger(documentClient(), tableOf(config, "commands")),
      sqs: sqsClient(),
      queueUrl: queueUrlOf(config, "slotForward"),
      logger,
      now: Date.now,
      retentionMs: config.commands.retentionDays * 86_400_000,
      timeoutMs,
      retryBaseSeconds,
      retryMaxSeconds,
    }
  : undefined;
const batch = new ParsedBatch("sqs", forwardRecordSchema, logger);

/** The slot-forward queue: each unsolicited upstream message POSTed on to bk-monitor; a failure is retried alone. */
export const handler: SQSHandler = async (event, context) =>
  batch.process(
    event,
    async function forwardOne(record: ForwardRecord) {
      // Queued while the URL was set, read after it was unset: nowhere to send it; kept as the upstream item.
      if (!deps) logger.warn("slot forward target unset (GSE_SLOT_FORWARD_URL), message dropped", { message_id: record.body.message_id });
      else await forwardRecord(deps, record);
    },
    context,
  );
