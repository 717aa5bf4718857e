import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import type { SQSHandler, SQSRecord } from "aws-lambda";
import { tableOf } from "../lib/core/config.ts";
import { functionContext } from "../lib/core/function.ts";
import { documentClient } from "../lib/core/aws.ts";
import { logAlert } from "../lib/console/alert-log.ts";
import { FleetLog } from "../lib/fleet/log.ts";

const { config, logger } = await functionContext("alert_log");
const deps = { log: new FleetLog({ client: documentClient(), tableName: tableOf(config, "fleet") }), now: Date.now };
const processor = new BatchProcessor(EventType.SQS);

/** The alert-log queue (every alert on the topic): one entry per alert; a failed write is retried alone. */
export const handler: SQSHandler = async (event, context) =>
  processPartialResponse(
    event,
    async function logOneAlert(record: SQSRecord) {
      const entry = await logAlert(deps, record);
      logger.info("alert logged", { message_id: entry.message_id, kind: entry.kind, severity: entry.severity });
    },
    processor,
    { context },
  );
