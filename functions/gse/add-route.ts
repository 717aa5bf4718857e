import { applyConfigChange } from "../../lib/gse/config-apply.ts";
import { gseFunction, gseHandler } from "../../lib/gse/handler.ts";

const context = await gseFunction("add_route");

export const handler = gseHandler("add_route", context, ({ body }) => applyConfigChange(context.gse, "add_route", body));
