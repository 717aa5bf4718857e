/**
 * Every GSE schema, from the files that hold them by object (lib/gse/schemas/): importers keep one
 * path whichever object they need.
 */
export * from "./schemas/common.ts";
export * from "./schemas/stream-to.ts";
export * from "./schemas/agents.ts";
export * from "./schemas/route.ts";
export * from "./schemas/dispatch.ts";
export * from "./schemas/envelope.ts";
