import { callersOf, getConfig } from "../../lib/core/config.ts";
import { consolePage, PAGE_CONTENT_TYPE, PAGE_HEADERS } from "../../lib/console/page.ts";
import { browserAuthenticator } from "../../lib/http/auth.ts";
import { httpHandler } from "../../lib/http/handler.ts";
import { createLogger } from "../../lib/core/logger.ts";
import { FUNCTIONS } from "../../lib/wiring.ts";

const config = await getConfig(FUNCTIONS.console_page.links);
const logger = createLogger("console_page", config.logLevel);

/** GET /v1/console: the status page. A browser signs in with HTTP Basic (app code, app secret). */
export const handler = httpHandler({ name: "console_page", logger, authenticate: browserAuthenticator(callersOf(config)) }, async () => ({
  text: consolePage(),
  contentType: PAGE_CONTENT_TYPE,
  headers: PAGE_HEADERS,
}));
