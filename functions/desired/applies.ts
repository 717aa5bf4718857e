import * as z from "zod";
import { parametersOf } from "../../lib/config-versions/api.ts";
import { documentClient } from "../../lib/core/aws.ts";
import { callersOf, tableOf } from "../../lib/core/config.ts";
import { functionContext } from "../../lib/core/function.ts";
import { getApply, listAppliesFromQuery } from "../../lib/desired/applies.ts";
import { applyPathSchema } from "../../lib/desired/schemas.ts";
import { DesiredStore } from "../../lib/desired/store.ts";
import { httpHandler } from "../../lib/http/handler.ts";

const { config, logger } = await functionContext("apply_history");
const store = new DesiredStore({ client: documentClient(), tableName: tableOf(config, "configs") });

/** GET /v1/applies (newest first, `limit`, `cursor`) and GET /v1/applies/{apply_id}. */
export const handler = httpHandler({ name: "apply_history", logger, callers: callersOf(config) }, async ({ event }) => {
  if (event.pathParameters?.apply_id === undefined) return { data: await listAppliesFromQuery(store, event.queryStringParameters ?? {}) };
  const { path } = parametersOf(event, applyPathSchema, z.object({}));
  return { data: await getApply(store, path.apply_id) };
});
