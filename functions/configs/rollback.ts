import { documentClient } from "../../lib/core/aws.ts";
import { sqsClient } from "../../lib/core/queue.ts";
import { callersOf } from "../../lib/core/config.ts";
import { objectPathSchema, parametersOf, rollbackBodySchema, versionView } from "../../lib/config-versions/api.ts";
import { rollbackTo } from "../../lib/config-versions/apply.ts";
import { configDeps, deadlineOf } from "../../lib/config-versions/deps.ts";
import { timeoutSubjectOf } from "../../lib/config-versions/documents.ts";
import { gseFunction } from "../../lib/gse/context.ts";
import { authorOf } from "../../lib/http/author.ts";
import { httpHandler } from "../../lib/http/handler.ts";
import * as z from "zod";

const context = await gseFunction("config_rollback");
const { config, logger } = context;
const deps = configDeps(context, { dynamo: documentClient(), sqs: sqsClient() });

/** Roll back to version N: a new version with N's document, applied and verified like any change. */
export const handler = httpHandler(
  { name: "config_rollback", logger, callers: callersOf(config), body: rollbackBodySchema },
  async ({ event, body, caller, deadline }) => {
    const { path } = parametersOf(event, objectPathSchema, z.object({}));
    deadline.working(timeoutSubjectOf(path));
    const version = await rollbackTo(deps, path, body.version, { author: authorOf({ caller }), ...deadlineOf({ deadline }) });
    return { data: versionView(version) };
  },
);
