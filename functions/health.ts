import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SNSClient } from "@aws-sdk/client-sns";
import { Agent } from "undici";
import { getConfig } from "../lib/config.ts";
import { OPERATIONS } from "../lib/gse/operations.ts";
import { gseHeaders, operationUrl } from "../lib/gse/transport.ts";
import { checkHealth, type GseProbe } from "../lib/health.ts";
import { httpHandler } from "../lib/http/handler.ts";
import { createLogger } from "../lib/logger.ts";

const config = await getConfig();
const logger = createLogger("health", config.logLevel);
const dynamo = new DynamoDBClient({});
const sns = new SNSClient({});
const dispatcher = new Agent({ keepAliveTimeout: 30_000 });

/** The agent-state read bk-monitor's switch selects: it needs our credentials and changes nothing. */
const gseProbe: GseProbe = config.gse.useNewAgentStatusApi
  ? {
      dispatcher,
      url: operationUrl(config.gse, OPERATIONS.list_agent_state, "gateway"),
      body: { agent_id_list: ["0:127.0.0.255"] },
      headers: gseHeaders(config.gse),
    }
  : {
      dispatcher,
      url: operationUrl(config.gse, OPERATIONS.get_agent_status, "esb"),
      body: { bk_supplier_account: "0", hosts: [{ ip: "127.0.0.255", bk_cloud_id: 0 }] },
      headers: gseHeaders(config.gse),
    };

export const handler = httpHandler({ name: "health", logger, callers: config.callers }, async () => {
  const report = await checkHealth({
    dynamo,
    sns,
    tables: Object.values(config.tables),
    topicArn: config.alertsTopicArn,
    gse: gseProbe,
    timeoutMs: 3000,
    now: Date.now,
  });
  return { status: report.status === "ok" ? 200 : 503, data: report };
});
