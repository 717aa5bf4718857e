import { getConfig } from "../lib/config.ts";
import { httpHandler } from "../lib/http/handler.ts";
import { createLogger } from "../lib/logger.ts";
import { buildOpenApiDocument } from "../lib/openapi.ts";
import { ROUTES } from "../lib/wiring.ts";

const config = await getConfig();
const logger = createLogger("openapi", config.logLevel);
/** Built once per cold start: the routes and schemas cannot change while the code runs. */
const document = buildOpenApiDocument(ROUTES);

export const handler = httpHandler({ name: "openapi", logger, callers: config.callers }, async () => ({ data: document, raw: true }));
