import { documentClient } from "../../lib/core/aws.ts";
import { callersOf, tableOf } from "../../lib/core/config.ts";
import { functionContext } from "../../lib/core/function.ts";
import { parametersOf } from "../../lib/config-versions/api.ts";
import { authorOf } from "../../lib/http/author.ts";
import { httpHandler } from "../../lib/http/handler.ts";
import { putTemplate } from "../../lib/templates/api.ts";
import { templateBodySchema, templatePathSchema } from "../../lib/templates/schemas.ts";
import { TemplateStore } from "../../lib/templates/store.ts";
import * as z from "zod";

const { config, logger } = await functionContext("template_put");
const deps = { store: new TemplateStore({ client: documentClient(), tableName: tableOf(config, "commands") }), now: Date.now };

/** PUT /v1/templates/{name}: 201 with a new version, or 200 with the latest (`created: false`) when the body is the same. */
export const handler = httpHandler({ name: "template_put", logger, callers: callersOf(config), body: templateBodySchema }, async ({ event, body, caller }) => {
  const { path } = parametersOf(event, templatePathSchema, z.object({}));
  const answer = await putTemplate(deps, path.name, body, authorOf({ caller }));
  return { status: answer.created ? 201 : 200, data: answer };
});
