import { applyConfigChange } from "../../lib/gse/config-apply.ts";
import { gseFunction, gseHandler } from "../../lib/gse/handler.ts";

const context = await gseFunction("update_streamto");

export const handler = gseHandler("update_streamto", context, ({ body }) => applyConfigChange(context.gse, "update_streamto", body));
