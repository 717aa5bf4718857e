/**
 * What a Lambda bundle that never generates JSON Schema gets for zod's `../core/to-json-schema.js`
 * (see lib/lambda-swaps/zod-json-schema-processors.ts): every zod schema builds its `toJSONSchema`
 * and `~standard.jsonSchema` methods from these factories, so building one still works; calling it
 * fails with this message.
 */
const leftOut = (): never => {
  throw new Error("zod's JSON Schema generation is left out of this Lambda bundle (lib/bundling.ts JSON_SCHEMA_FUNCTIONS)");
};

export const createToJSONSchemaMethod = (): (() => never) => leftOut;
export const createStandardJSONSchemaMethod = (): (() => never) => leftOut;
