import { gseFunction } from "../../lib/gse/context.ts";
import { gseHandler } from "../../lib/gse/handler.ts";

const context = await gseFunction("query_route");

export const handler = gseHandler("query_route", context, ({ body }) => context.gse.call("query_route", body));
