import type { SQSHandler } from "aws-lambda";
import { tableOf } from "../lib/core/config.ts";
import { functionContext } from "../lib/core/function.ts";
import { documentClient } from "../lib/core/aws.ts";
import { ParsedBatch, queueRecordSchema, type QueueRecord } from "../lib/core/records.ts";
import { logAlert } from "../lib/console/alert-log.ts";
import { FleetLog } from "../lib/fleet/log.ts";

const { config, logger } = await functionContext("alert_log");
const deps = { log: new FleetLog({ client: documentClient(), tableName: tableOf(config, "fleet") }), now: Date.now };
// Any text is an alert (a message sent to the queue directly too), so only the record's shape is checked here.
const batch = new ParsedBatch("sqs", queueRecordSchema, logger);

/** The alert-log queue (every alert on the topic): one entry per alert; a failed write is retried alone. */
export const handler: SQSHandler = async (event, context) =>
  batch.process(
    event,
    async function logOneAlert(record: QueueRecord) {
      const entry = await logAlert(deps, record);
      logger.info("alert logged", { message_id: entry.message_id, kind: entry.kind, severity: entry.severity });
    },
    context,
  );
