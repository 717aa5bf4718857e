import { answerApps } from "../../lib/apm/api.ts";
import { apmFunction } from "../../lib/apm/deps.ts";
import { callersOf } from "../../lib/core/config.ts";
import { httpHandler } from "../../lib/http/handler.ts";
import { z } from "zod";

const { config, deps, logger } = await apmFunction("apm_apps");

/** APM applications: create, list, read, update, delete. */
export const handler = httpHandler({ name: "apm_apps", logger, callers: callersOf(config), body: z.unknown() }, (ctx) => answerApps(deps, ctx));
