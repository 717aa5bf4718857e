import { applyConfigChange } from "../../lib/gse/config-apply.ts";
import { gseFunction, gseHandler } from "../../lib/gse/handler.ts";

const context = await gseFunction("delete_streamto");

export const handler = gseHandler("delete_streamto", context, ({ body }) => applyConfigChange(context.gse, "delete_streamto", body));
