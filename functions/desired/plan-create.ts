import * as z from "zod";
import { documentClient } from "../../lib/core/aws.ts";
import { callersOf } from "../../lib/core/config.ts";
import { planFromRequest } from "../../lib/desired/api.ts";
import { planDeps } from "../../lib/desired/plan-deps.ts";
import { gseFunction } from "../../lib/gse/context.ts";
import { authorOf } from "../../lib/http/author.ts";
import { httpHandler } from "../../lib/http/handler.ts";

const context = await gseFunction("plan_create");
const { config, logger } = context;
const deps = planDeps(context, { dynamo: documentClient() });

/**
 * POST /v1/plans: the document (JSON, or `{yaml}`) planned against what GSE holds now; 201 with the
 * plan. The body is taken as any JSON here: lib/desired/api.ts tells YAML from a document and
 * validates either, so a 400 names the document's own field rather than a branch of a union.
 */
export const handler = httpHandler({ name: "plan_create", logger, callers: callersOf(config), body: z.unknown() }, async ({ body, caller }) => ({
  status: 201,
  data: await planFromRequest(deps, body, authorOf({ caller })),
}));
