import { callersOf } from "../../lib/core/config.ts";
import { functionContext } from "../../lib/core/function.ts";
import { consolePage, PAGE_CONTENT_TYPE, PAGE_HEADERS } from "../../lib/console/page.ts";
import { browserAuthenticator } from "../../lib/http/auth.ts";
import { httpHandler } from "../../lib/http/handler.ts";

const { config, logger } = await functionContext("console_page");

/** GET /v1/console: the status page. A browser signs in with HTTP Basic (app code, app secret). */
export const handler = httpHandler({ name: "console_page", logger, authenticate: browserAuthenticator(callersOf(config)) }, async () => ({
  text: consolePage(),
  contentType: PAGE_CONTENT_TYPE,
  headers: PAGE_HEADERS,
}));
