import { gseFunction } from "../../lib/gse/context.ts";
import { gseHandler } from "../../lib/gse/handler.ts";

const context = await gseFunction("query_streamto");

export const handler = gseHandler("query_streamto", context, ({ body }) => context.gse.call("query_streamto", body));
