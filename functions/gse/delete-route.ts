import { applyConfigChange } from "../../lib/gse/config-apply.ts";
import { gseFunction, gseHandler } from "../../lib/gse/handler.ts";

const context = await gseFunction("delete_route");

export const handler = gseHandler("delete_route", context, ({ body }) => applyConfigChange(context.gse, "delete_route", body));
