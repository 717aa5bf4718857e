/**
 * Writes docs/desired-state.schema.json, the JSON Schema of a desired-state document for editors
 * (a YAML file that starts with `# yaml-language-server: $schema=…` gets completion and checks),
 * from the one zod schema the API validates with: `npm run schema:desired`. The file is committed;
 * test/unit/desired/schema-file.test.ts fails when it no longer matches what this generates.
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { desiredDocumentSchema } from "../lib/desired/schemas.ts";

export const DESIRED_SCHEMA_FILE = resolve(fileURLToPath(import.meta.url), "../../docs/desired-state.schema.json");

/** The schema as a person writes the document (`io: "input"`: fields with defaults are optional). */
export function desiredStateJsonSchema(): Record<string, unknown> {
  const { $schema, ...rest } = z.toJSONSchema(desiredDocumentSchema, { target: "draft-2020-12", io: "input", unrepresentable: "any" });
  return {
    $schema,
    title: "gse-control desired state",
    description:
      "The stream_tos and route channels a GSE platform (plat_name) should have; plan and apply it with gse-control (docs/desired-state.md). Generated from lib/desired/schemas.ts by `npm run schema:desired`.",
    ...rest,
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  writeFileSync(DESIRED_SCHEMA_FILE, `${JSON.stringify(desiredStateJsonSchema(), null, 2)}\n`);
  // Formatted as the repository formats JSON, so a regenerated file is what biome ci expects.
  execFileSync(resolve(fileURLToPath(import.meta.url), "../../node_modules/.bin/biome"), ["format", "--write", DESIRED_SCHEMA_FILE], { stdio: "ignore" });
  console.log(`wrote ${DESIRED_SCHEMA_FILE}`);
}
