import { configDeps, versionedChange } from "../../lib/config-versions/deps.ts";
import { documentClient } from "../../lib/core/aws.ts";
import { sqsClient } from "../../lib/core/queue.ts";
import { gseFunction } from "../../lib/gse/context.ts";
import { gseHandler } from "../../lib/gse/handler.ts";

const context = await gseFunction("add_route");
const deps = configDeps(context, { dynamo: documentClient(), sqs: sqsClient() });

/** Versioned: recorded, verified by reading back, undone by recovery on failure (lib/config-versions). */
export const handler = gseHandler("add_route", context, versionedChange(deps, "add_route"));
