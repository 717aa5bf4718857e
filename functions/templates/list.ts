import { documentClient } from "../../lib/core/aws.ts";
import { callersOf, tableOf } from "../../lib/core/config.ts";
import { functionContext } from "../../lib/core/function.ts";
import { httpHandler, validate } from "../../lib/http/handler.ts";
import { listTemplates } from "../../lib/templates/api.ts";
import { templateListQuerySchema } from "../../lib/templates/schemas.ts";
import { TemplateStore } from "../../lib/templates/store.ts";

const { config, logger } = await functionContext("template_list");
const store = new TemplateStore({ client: documentClient(), tableName: tableOf(config, "commands") });

/** GET /v1/templates: by name, each with its latest version; `?limit=&cursor=`. */
export const handler = httpHandler({ name: "template_list", logger, callers: callersOf(config) }, async ({ event }) => ({
  data: await listTemplates(store, validate(templateListQuerySchema, event.queryStringParameters ?? {})),
}));
