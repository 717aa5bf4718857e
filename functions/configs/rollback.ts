import { callersOf, getConfig, gseOf } from "../../lib/core/config.ts";
import { objectPathSchema, parametersOf, rollbackBodySchema, versionView } from "../../lib/config-versions/api.ts";
import { rollbackTo } from "../../lib/config-versions/apply.ts";
import { configDeps } from "../../lib/config-versions/deps.ts";
import { GseClient } from "../../lib/gse/client.ts";
import { httpHandler } from "../../lib/http/handler.ts";
import { createLogger } from "../../lib/core/logger.ts";
import { FUNCTIONS } from "../../lib/wiring.ts";
import { z } from "zod";

const config = await getConfig(FUNCTIONS.config_rollback.links);
const logger = createLogger("config_rollback", config.logLevel);
const deps = configDeps({ config, logger, gse: new GseClient({ gse: gseOf(config), logger }) });

/** Roll back to version N: a new version with N's document, applied and verified like any change. */
export const handler = httpHandler({ name: "config_rollback", logger, callers: callersOf(config), body: rollbackBodySchema }, async ({ event, body, caller }) => {
  const { path } = parametersOf(event, objectPathSchema, z.object({}));
  const version = await rollbackTo(deps, path, body.version, { author: caller.username || caller.appCode });
  return { data: versionView(version) };
});
