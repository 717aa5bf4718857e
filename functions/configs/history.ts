import { callersOf, tableOf } from "../../lib/core/config.ts";
import { functionContext } from "../../lib/core/function.ts";
import { answerHistory } from "../../lib/config-versions/api.ts";
import { documentClient } from "../../lib/core/aws.ts";
import { httpHandler } from "../../lib/http/handler.ts";
import { ConfigStore } from "../../lib/config-versions/store.ts";

const { config, logger } = await functionContext("config_history");
const store = new ConfigStore({ client: documentClient(), tableName: tableOf(config, "configs") });

/** Versions of one stream_to or route: the list (paged), one version, a diff of two. Secrets masked. */
export const handler = httpHandler({ name: "config_history", logger, callers: callersOf(config) }, async ({ event }) => ({
  data: await answerHistory(store, event),
}));
