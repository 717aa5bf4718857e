import { callersOf } from "../lib/core/config.ts";
import { functionContext } from "../lib/core/function.ts";
import { httpHandler } from "../lib/http/handler.ts";
import { buildOpenApiDocument, servedDocument } from "../lib/openapi/document.ts";
import { ROUTES } from "../lib/routes.ts";

const { config, logger } = await functionContext("openapi");
/** Built once per cold start: the routes and schemas cannot change while the code runs. */
const document = buildOpenApiDocument(ROUTES);

/** The document with the origin this request reached first among its servers. */
export const handler = httpHandler({ name: "openapi", logger, callers: callersOf(config) }, async ({ event }) => ({
  data: servedDocument(document, event),
  raw: true,
}));
