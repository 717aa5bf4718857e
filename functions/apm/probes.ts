import { answerProbes } from "../../lib/apm/api.ts";
import { apmFunction } from "../../lib/apm/deps.ts";
import { callersOf } from "../../lib/core/config.ts";
import { httpHandler } from "../../lib/http/handler.ts";
import { z } from "zod";

const { config, deps, logger } = await apmFunction("apm_probes");

/** APM probes: report instances, list them within the retention window, versions, discovery and upgrade commands. */
export const handler = httpHandler({ name: "apm_probes", logger, callers: callersOf(config), body: z.unknown() }, (ctx) => answerProbes(deps, ctx));
