import { documentClient } from "../../lib/core/aws.ts";
import { callersOf, tableOf } from "../../lib/core/config.ts";
import { functionContext } from "../../lib/core/function.ts";
import { parametersOf } from "../../lib/config-versions/api.ts";
import { httpHandler } from "../../lib/http/handler.ts";
import { getTemplate } from "../../lib/templates/api.ts";
import { templateGetQuerySchema, templatePathSchema } from "../../lib/templates/schemas.ts";
import { TemplateStore } from "../../lib/templates/store.ts";

const { config, logger } = await functionContext("template_get");
const store = new TemplateStore({ client: documentClient(), tableName: tableOf(config, "commands") });

/** GET /v1/templates/{name}: the latest version, or `?version=N`. */
export const handler = httpHandler({ name: "template_get", logger, callers: callersOf(config) }, async ({ event }) => {
  const { path, query } = parametersOf(event, templatePathSchema, templateGetQuerySchema);
  return { data: await getTemplate(store, path.name, query.version) };
});
