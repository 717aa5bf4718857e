import { callersOf, tableOf } from "../../lib/core/config.ts";
import { objectPathSchema, parametersOf } from "../../lib/config-versions/api.ts";
import { documentClient } from "../../lib/core/aws.ts";
import { checkDrift } from "../../lib/config-versions/reconcile.ts";
import { NotFoundError } from "../../lib/core/errors.ts";
import { gseFunction } from "../../lib/gse/context.ts";
import { httpHandler } from "../../lib/http/handler.ts";
import { ConfigStore } from "../../lib/config-versions/store.ts";
import * as z from "zod";

const { config, logger, gse } = await gseFunction("config_drift");
const deps = {
  gse,
  store: new ConfigStore({ client: documentClient(), tableName: tableOf(config, "configs") }),
  operator: config.gse.username,
};

/** On-demand drift check of one object: its head's document against what GSE holds now. */
export const handler = httpHandler({ name: "config_drift", logger, callers: callersOf(config) }, async ({ event }) => {
  const { path } = parametersOf(event, objectPathSchema, z.object({}));
  const report = await checkDrift(deps, path);
  if (!report) throw new NotFoundError(`no versions of ${path.kind}#${path.id}: it was never changed through gse-control`);
  return { data: report };
});
