/**
 * infra/lambda-plugins.ts's plugins for the functions that generate JSON Schema at run time
 * (JSON_SCHEMA_FUNCTIONS in lib/bundling.ts): the same swaps, zod's JSON Schema generator kept.
 * Loaded by SST in plain `node`, as infra/lambda-plugins.ts is.
 */
import { fileURLToPath } from "node:url";
import { lambdaSwapsPlugin } from "../lib/bundling.ts";

export default [lambdaSwapsPlugin(fileURLToPath(new URL("..", import.meta.url)), { jsonSchema: true })];
