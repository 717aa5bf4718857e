/**
 * What a Lambda bundle that never generates JSON Schema gets for zod's JSON Schema processors
 * (lib/bundling.ts swaps it in at build time for `../core/json-schema-processors.js` inside zod,
 * with lib/lambda-swaps/zod-to-json-schema.ts: ≈19 kB). zod's classic schemas reach them only from
 * `toJSONSchema` and `~standard.jsonSchema`, which only the openapi function calls; it is bundled with
 * them (JSON_SCHEMA_FUNCTIONS). `aggregateChecks` is zod's own: the schemas' `minLength`, `isInt`...
 * getters read it. A processor a function reaches fails with this message instead of a wrong schema.
 */
export { aggregateChecks } from "../../node_modules/zod/v4/core/json-schema-processors.js";

const leftOut = (): never => {
  throw new Error("zod's JSON Schema generation is left out of this Lambda bundle (lib/bundling.ts JSON_SCHEMA_FUNCTIONS)");
};

export const toJSONSchema = leftOut;
export const anyProcessor = leftOut;
export const arrayProcessor = leftOut;
export const bigintProcessor = leftOut;
export const booleanProcessor = leftOut;
export const catchProcessor = leftOut;
export const customProcessor = leftOut;
export const dateProcessor = leftOut;
export const defaultProcessor = leftOut;
export const enumProcessor = leftOut;
export const fileProcessor = leftOut;
export const functionProcessor = leftOut;
export const intersectionProcessor = leftOut;
export const lazyProcessor = leftOut;
export const literalProcessor = leftOut;
export const mapProcessor = leftOut;
export const nanProcessor = leftOut;
export const neverProcessor = leftOut;
export const nonoptionalProcessor = leftOut;
export const nullProcessor = leftOut;
export const nullableProcessor = leftOut;
export const numberProcessor = leftOut;
export const objectProcessor = leftOut;
export const optionalProcessor = leftOut;
export const pipeProcessor = leftOut;
export const prefaultProcessor = leftOut;
export const promiseProcessor = leftOut;
export const readonlyProcessor = leftOut;
export const recordProcessor = leftOut;
export const setProcessor = leftOut;
export const stringProcessor = leftOut;
export const successProcessor = leftOut;
export const symbolProcessor = leftOut;
export const templateLiteralProcessor = leftOut;
export const transformProcessor = leftOut;
export const tupleProcessor = leftOut;
export const undefinedProcessor = leftOut;
export const unionProcessor = leftOut;
export const unknownProcessor = leftOut;
export const voidProcessor = leftOut;
