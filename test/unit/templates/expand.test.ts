import { describe, expect, it } from "vitest";
import { ValidationError } from "../../../lib/core/errors.ts";
import { validate } from "../../../lib/http/handler.ts";
import { expandTemplate } from "../../../lib/templates/expand.ts";
import { templateBodySchema, type TemplateVersion } from "../../../lib/templates/schemas.ts";

/** A stored version of `body` (checked as PUT checks it). */
const version = (body: unknown, version = 3): TemplateVersion => ({
  name: "beat-upgrade",
  version,
  ...validate(templateBodySchema, body),
  created_at: "2026-12-03T10:00:00.000Z",
  created_by: "ops",
});

const upgrade = version({
  content: '{"action": "upgrade", "version": "{{version}}", "channel": "{{channel}}"}',
  parameters: [
    { name: "version", required: true, pattern: "\\d+\\.\\d+\\.\\d+" },
    { name: "channel", default: "stable" },
  ],
  expect_version: "{{version}}",
  max_concurrency: "10%",
  strategy: { kind: "exponential", start: 10, factor: 2 },
  undo: { content: '{"action": "downgrade", "from": "{{version}}"}', reply_timeout_seconds: 30 },
});

/** The problems expandTemplate refuses with, by path. */
function refusal(run: () => unknown): { path: string; message: string }[] {
  try {
    run();
  } catch (error) {
    if (error instanceof ValidationError) return [...error.problems];
    throw error;
  }
  throw new Error("expected a ValidationError");
}

describe("expandTemplate", () => {
  it("fills the content, the undo and expect_version, applies defaults, and keeps the settings", () => {
    const run = expandTemplate(upgrade, { version: "2.1.0" });
    expect(JSON.parse(run.content)).toEqual({ action: "upgrade", version: "2.1.0", channel: "stable" });
    expect(run.settings).toEqual({
      max_concurrency: "10%",
      strategy: { kind: "exponential", start: 10, factor: 2 },
      expect_version: "2.1.0",
      undo: { content: '{"action": "downgrade", "from": "2.1.0"}', reply_timeout_seconds: 30 },
    });
    expect(run.template).toEqual({ name: "beat-upgrade", version: 3 });
  });

  it("takes a given value over the default", () => {
    expect(JSON.parse(expandTemplate(upgrade, { version: "2.1.0", channel: "beta" }).content).channel).toBe("beta");
  });

  it("refuses a missing required parameter, naming template.parameters.<name>", () => {
    expect(refusal(() => expandTemplate(upgrade, {}))).toEqual([{ path: "template.parameters.version", message: "is required" }]);
  });

  it("refuses a value its pattern does not match whole", () => {
    expect(refusal(() => expandTemplate(upgrade, { version: "2.1.0; rm -rf /" })).map((p) => p.path)).toEqual(["template.parameters.version"]);
    expect(refusal(() => expandTemplate(upgrade, { version: "v2.1.0" })).map((p) => p.path)).toEqual(["template.parameters.version"]);
  });

  it("refuses a parameter the template does not declare", () => {
    expect(refusal(() => expandTemplate(upgrade, { version: "2.1.0", colour: "red" }))).toEqual([
      { path: "template.parameters.colour", message: "template beat-upgrade v3 has no parameter colour" },
    ]);
  });

  it("JSON-escapes a value inside JSON content, so the content stays JSON and means the value", () => {
    const tricky = 'a "quoted" \\ value\nwith a newline';
    const template = version({ content: '{"note": "{{note}}"}', parameters: [{ name: "note" }] });
    expect(JSON.parse(expandTemplate(template, { note: tricky }).content)).toEqual({ note: tricky });
  });

  it("inserts a value as it is into content that is not JSON, and where a placeholder stands outside a JSON string", () => {
    const text = version({ content: "restart {{service}} now", parameters: [{ name: "service" }] });
    expect(expandTemplate(text, { service: 'a"b' }).content).toBe('restart a"b now');
    const port = version({ content: '{"port": {{port}}}', parameters: [{ name: "port", pattern: "\\d{1,5}" }] });
    expect(JSON.parse(expandTemplate(port, { port: "8080" }).content)).toEqual({ port: 8080 });
  });

  it("fills an optional parameter with no default and no value with nothing", () => {
    const template = version({ content: "run{{suffix}}", parameters: [{ name: "suffix" }] });
    expect(expandTemplate(template).content).toBe("run");
  });

  it("re-checks the settings once filled: an expect_version that is no semver range is refused, naming it", () => {
    const template = version({ content: "upgrade", parameters: [{ name: "v" }], expect_version: "{{v}}" });
    expect(refusal(() => expandTemplate(template, { v: "not a range!" })).map((p) => p.path)).toEqual(["template.expect_version"]);
    expect(expandTemplate(template, { v: ">=2.0.0 <3" }).settings.expect_version).toBe(">=2.0.0 <3");
  });

  it("re-checks the content once filled: over the content limit is refused, naming template.content", () => {
    const template = version({ content: "{{blob}}{{blob}}", parameters: [{ name: "blob" }] });
    const big = "x".repeat(4096);
    const many = version({ content: "{{b}}".repeat(70), parameters: [{ name: "b" }] });
    expect(expandTemplate(template, { blob: big }).content).toHaveLength(8192);
    expect(refusal(() => expandTemplate(many, { b: big })).map((p) => p.path)).toEqual(["template.content"]);
  });
});
