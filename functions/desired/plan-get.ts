import * as z from "zod";
import { parametersOf } from "../../lib/config-versions/api.ts";
import { documentClient } from "../../lib/core/aws.ts";
import { callersOf, tableOf } from "../../lib/core/config.ts";
import { functionContext } from "../../lib/core/function.ts";
import { getPlan } from "../../lib/desired/plans.ts";
import { planPathSchema } from "../../lib/desired/schemas.ts";
import { DesiredStore } from "../../lib/desired/store.ts";
import { httpHandler } from "../../lib/http/handler.ts";

const { config, logger } = await functionContext("plan_get");
const store = new DesiredStore({ client: documentClient(), tableName: tableOf(config, "configs") });

/** GET /v1/plans/{plan_id}: a stored plan, secrets masked. */
export const handler = httpHandler({ name: "plan_get", logger, callers: callersOf(config) }, async ({ event }) => {
  const { path } = parametersOf(event, planPathSchema, z.object({}));
  return { data: await getPlan(store, path.plan_id) };
});
