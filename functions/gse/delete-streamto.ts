import { configDeps, versionedChange } from "../../lib/config-versions/deps.ts";
import { gseFunction, gseHandler } from "../../lib/gse/handler.ts";

const context = await gseFunction("delete_streamto");
const deps = configDeps(context);

/** Versioned: recorded, verified by reading back, rolled back by recovery on failure (lib/config-versions). */
export const handler = gseHandler("delete_streamto", context, versionedChange(deps, "delete_streamto"));
