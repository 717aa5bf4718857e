/**
 * What a command needs once it runs, and `--help` does not: every zod schema the CLI parses with
 * (the routes' own, from lib/) and the target's resolution. Loaded by the program's preAction hook
 * (cli/lazy.ts), so help, version and usage errors start without building a schema: zod and the
 * schemas are two thirds of the start-up time.
 */
import { z } from "zod";

export { listAgentStateDataSchema } from "../lib/gse/schemas.ts";
export { historyDataSchema, listAgentsDataSchema, registerDataSchema, summaryDataSchema, unregisterDataSchema } from "../lib/fleet/schemas.ts";
export { labelsDataSchema, patchLabelsBodySchema, putLabelsBodySchema } from "../lib/fleet/schemas.ts";
export { resolveBodySchema, resolveDataSchema } from "../lib/fleet/resolve-schemas.ts";
export { diffDataSchema, historyPageSchema, versionViewSchema } from "../lib/config-versions/api.ts";
export { driftReportSchema } from "../lib/config-versions/reconcile.ts";
export { commandListSchema, commandPageSchema, commandViewSchema, dispatchAnswerSchema, dispatchCommandSchema } from "../lib/commands/schemas.ts";
export {
  appListSchema,
  appNameSchema,
  appViewSchema,
  createAppSchema,
  datasourceActionSchema,
  datasourceApplyFailureSchema,
  datasourceRequestSchema,
  probeCommandAnswerSchema,
  probeListSchema,
  probeQuerySchema,
  probeVersionsSchema,
  upgradeRequestSchema,
} from "../lib/apm/schemas.ts";
export { rolloutListSchema, rolloutViewSchema, startRolloutSchema } from "../lib/rollouts/schemas.ts";
export { applyListSchema, applyRequestSchema, applyViewSchema, planViewSchema } from "../lib/desired/schemas.ts";
export { resolveTarget } from "./target.ts";

export const deletedSchema = z.object({ deleted: z.boolean() });

/** Our API's envelope, and the field errors a 400 carries in its data. */
export const envelopeSchema = z.looseObject({
  result: z.boolean(),
  code: z.union([z.number(), z.string()]),
  message: z.string().optional(),
  data: z.unknown(),
});
export const fieldErrorsSchema = z.object({ errors: z.array(z.object({ path: z.string(), message: z.string() })) });
