import { callersOf, getConfig } from "../lib/core/config.ts";
import { httpHandler } from "../lib/http/handler.ts";
import { createLogger } from "../lib/core/logger.ts";
import { buildOpenApiDocument } from "../lib/openapi/document.ts";
import { ROUTES } from "../lib/routes.ts";
import { FUNCTIONS } from "../lib/wiring.ts";

const config = await getConfig(FUNCTIONS.openapi.links);
const logger = createLogger("openapi", config.logLevel);
/** Built once per cold start: the routes and schemas cannot change while the code runs. */
const document = buildOpenApiDocument(ROUTES);

export const handler = httpHandler({ name: "openapi", logger, callers: callersOf(config) }, async () => ({ data: document, raw: true }));
