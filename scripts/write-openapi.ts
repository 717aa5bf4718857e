/**
 * Writes the OpenAPI document `GET /openapi.json` serves to a file (default dist/openapi.json), so
 * `npm run lint:openapi` can lint it with Redocly: `tsx scripts/write-openapi.ts [file]`.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { buildOpenApiDocument } from "../lib/openapi/document.ts";
import { ROUTES } from "../lib/routes.ts";

const file = resolve(process.argv[2] ?? "dist/openapi.json");
mkdirSync(dirname(file), { recursive: true });
writeFileSync(file, `${JSON.stringify(buildOpenApiDocument(ROUTES), null, 2)}\n`);
console.log(`wrote ${file}`);
