import { applyConfigChange } from "../../lib/gse/config-apply.ts";
import { gseFunction, gseHandler } from "../../lib/gse/handler.ts";

const context = await gseFunction("add_streamto");

export const handler = gseHandler("add_streamto", context, ({ body }) => applyConfigChange(context.gse, "add_streamto", body));
