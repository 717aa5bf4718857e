import { applyConfigChange } from "../../lib/gse/config-apply.ts";
import { gseFunction, gseHandler } from "../../lib/gse/handler.ts";

const context = await gseFunction("update_route");

export const handler = gseHandler("update_route", context, ({ body }) => applyConfigChange(context.gse, "update_route", body));
