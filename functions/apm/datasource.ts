import { answerDatasource } from "../../lib/apm/api.ts";
import { apmFunction } from "../../lib/apm/deps.ts";
import { callersOf } from "../../lib/core/config.ts";
import { httpHandler } from "../../lib/http/handler.ts";
import { z } from "zod";

const { config, deps, logger } = await apmFunction("apm_datasource");

/** Start or stop an APM datasource: its route through the versioned config flow, then a command to the app's probes. */
export const handler = httpHandler({ name: "apm_datasource", logger, callers: callersOf(config), body: z.unknown() }, (ctx) => answerDatasource(deps, ctx));
