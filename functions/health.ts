import { dynamoClient } from "../lib/core/aws.ts";
import { alertsTopicOf, callersOf, gseOf, tableOf } from "../lib/core/config.ts";
import { functionContext } from "../lib/core/function.ts";
import { snsClient } from "../lib/core/sns.ts";
import { Agent } from "../lib/core/undici.ts";
import { TABLE_KEYS } from "../lib/resources.ts";
import { OPERATIONS } from "../lib/gse/operations.ts";
import { gseHeaders, operationUrl } from "../lib/gse/transport.ts";
import { checkHealth, healthAnswer, type GseProbe } from "../lib/health.ts";
import { httpHandler } from "../lib/http/handler.ts";

const { config, logger } = await functionContext("health");
const gse = gseOf(config);
const dynamo = dynamoClient();
const sns = snsClient();
const dispatcher = new Agent({ keepAliveTimeout: 30_000 });

/** The agent-state read bk-monitor's switch selects: it needs our credentials and changes nothing. */
const gseProbe: GseProbe = config.gse.useNewAgentStatusApi
  ? {
      dispatcher,
      url: operationUrl(config.gse, OPERATIONS.list_agent_state, "gateway"),
      body: { agent_id_list: ["0:127.0.0.255"] },
      headers: gseHeaders(gse),
    }
  : {
      dispatcher,
      url: operationUrl(config.gse, OPERATIONS.get_agent_status, "esb"),
      body: { bk_supplier_account: "0", hosts: [{ ip: "127.0.0.255", bk_cloud_id: 0 }] },
      headers: gseHeaders(gse),
    };

/** GET /health: 200 with the report when every dependency answers; 503 DEPENDENCY_UNAVAILABLE (same report as `data`) otherwise. */
export const handler = httpHandler({ name: "health", logger, callers: callersOf(config) }, async () => {
  const report = await checkHealth({
    dynamo,
    sns,
    tables: TABLE_KEYS.map((key) => tableOf(config, key)),
    topicArn: alertsTopicOf(config),
    gse: gseProbe,
    timeoutMs: 3000,
    now: Date.now,
  });
  return healthAnswer(report);
});
