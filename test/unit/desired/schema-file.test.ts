/**
 * docs/desired-state.schema.json is generated from desiredDocumentSchema (npm run schema:desired);
 * these fail when the committed file went stale, and check that editors using it accept the
 * example document and flag what the API would refuse.
 */
import { Ajv2020 } from "ajv/dist/2020.js";
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { desiredDocumentSchema } from "../../../lib/desired/schemas.ts";
import { DESIRED_SCHEMA_FILE, desiredStateJsonSchema } from "../../../scripts/write-desired-schema.ts";

const committed = JSON.parse(readFileSync(DESIRED_SCHEMA_FILE, "utf8")) as Record<string, unknown>;
const example = parse(readFileSync(new URL("../../../docs/examples/bkmonitor-kafka.yaml", import.meta.url), "utf8")) as Record<string, unknown>;

describe("docs/desired-state.schema.json", () => {
  it("is what npm run schema:desired generates from desiredDocumentSchema now (regenerate it when the schema changes)", () => {
    expect(committed).toEqual(desiredStateJsonSchema());
  });

  it("accepts the bk-monitor Kafka example, as the API's schema does", () => {
    const validate = new Ajv2020({ strict: false, allErrors: true }).compile(committed);
    expect(validate(example), JSON.stringify(validate.errors)).toBe(true);
    expect(desiredDocumentSchema.safeParse(example).success).toBe(true);
  });

  it("flags a document without plat_name, an unknown top-level field and a route without a stream_to name, as the API does", () => {
    const validate = new Ajv2020({ strict: false, allErrors: true }).compile(committed);
    const { plat_name: _plat, ...withoutPlat } = example;
    for (const bad of [
      withoutPlat,
      { ...example, streams: [] },
      { plat_name: "bkmonitor", routes: [{ channel_id: 1001, route: [{ name: "r", stream_to: { kafka: { topic_name: "t" } } }] }] },
    ]) {
      expect(validate(bad), JSON.stringify(bad)).toBe(false);
      expect(desiredDocumentSchema.safeParse(bad).success).toBe(false);
    }
  });
});
