import { describe, expect, it } from "vitest";
import { ValidationError } from "../../../lib/core/errors.ts";
import { validate } from "../../../lib/http/handler.ts";
import { templateBodySchema, templateNameSchema, templateRefSchema } from "../../../lib/templates/schemas.ts";

/** The problems a body is refused with, as the API names them. */
function problems(body: unknown): { path: string; message: string }[] {
  try {
    validate(templateBodySchema, body);
  } catch (error) {
    if (error instanceof ValidationError) return [...error.problems];
    throw error;
  }
  return [];
}

const upgrade = {
  content: '{"action": "upgrade", "version": "{{version}}"}',
  parameters: [{ name: "version", required: true, pattern: "\\d+\\.\\d+\\.\\d+" }],
  expect_version: "{{version}}",
  strategy: { kind: "linear", wave_size: "10%" },
  undo: { content: '{"action": "downgrade"}' },
};

describe("a template body", () => {
  it("takes content with declared placeholders and the rollout settings of a rollout", () => {
    expect(problems(upgrade)).toEqual([]);
    expect(validate(templateBodySchema, { content: "reload" }).parameters).toEqual([]);
  });

  it("refuses a placeholder in content that names no declared parameter, naming content", () => {
    expect(problems({ content: "restart {{service}}" })).toEqual([{ path: "content", message: "{{service}} is not a declared parameter" }]);
  });

  it("refuses an undeclared placeholder in undo.content and in expect_version, naming each field", () => {
    const found = problems({ ...upgrade, undo: { content: "back to {{previous}}" }, expect_version: ">={{floor}}" });
    expect(found.map((p) => p.path).sort()).toEqual(["expect_version", "undo.content"]);
  });

  it("refuses a declared parameter no placeholder uses, naming the parameter", () => {
    expect(problems({ content: "reload", parameters: [{ name: "unused" }] })).toEqual([
      { path: "parameters.0.name", message: "unused is used by no placeholder in content, undo.content or expect_version" },
    ]);
  });

  it("counts a parameter used only in undo.content or expect_version as used", () => {
    expect(problems({ content: "upgrade", parameters: [{ name: "old" }], undo: { content: "downgrade to {{old}}" } })).toEqual([]);
    expect(problems({ content: "upgrade", parameters: [{ name: "v" }], expect_version: "{{v}}" })).toEqual([]);
  });

  it("refuses a parameter declared twice, a default on a required one, a default its pattern refuses, a pattern that does not compile", () => {
    expect(problems({ content: "{{a}}", parameters: [{ name: "a" }, { name: "a" }] }).map((p) => p.path)).toEqual(["parameters.1.name"]);
    expect(problems({ content: "{{a}}", parameters: [{ name: "a", required: true, default: "x" }] }).map((p) => p.path)).toEqual(["parameters.0.default"]);
    expect(problems({ content: "{{a}}", parameters: [{ name: "a", default: "x", pattern: "\\d+" }] }).map((p) => p.path)).toEqual(["parameters.0.default"]);
    expect(problems({ content: "{{a}}", parameters: [{ name: "a", pattern: "(" }] }).map((p) => p.path)).toEqual(["parameters.0.pattern"]);
  });

  it("refuses the rollout settings the rollout refuses, and fields it does not know", () => {
    expect(problems({ content: "x", strategy: { kind: "linear", wave_size: 0 } }).map((p) => p.path)).toEqual(["strategy.wave_size"]);
    expect(problems({ content: "x", bogus: 1 }).map((p) => p.path)).toEqual([""]);
    expect(problems({ content: "" }).map((p) => p.path)).toEqual(["content"]);
  });

  it("leaves `{{…}}` that holds no parameter name to the content (e.g. a script's own braces)", () => {
    expect(problems({ content: "echo {{ 1 + 2 }} {{}}" })).toEqual([]);
  });
});

describe("a template name", () => {
  it.each(["bkmonitorbeat-upgrade", "a", "v1.2_x", "0abc"])("accepts %s", (name) => expect(templateNameSchema.safeParse(name).success).toBe(true));
  it.each(["", "Upper", "-lead", "has space", "a/b", "x".repeat(64)])("refuses %j", (name) => expect(templateNameSchema.safeParse(name).success).toBe(false));
});

describe("a template reference", () => {
  it("takes a name, an optional version and string parameters, and nothing else", () => {
    expect(templateRefSchema.safeParse({ name: "up", version: 3, parameters: { version: "2.1.0" } }).success).toBe(true);
    expect(templateRefSchema.safeParse({ name: "up" }).success).toBe(true);
    expect(templateRefSchema.safeParse({ name: "up", version: 0 }).success).toBe(false);
    expect(templateRefSchema.safeParse({ name: "up", parameters: { version: 2 } }).success).toBe(false);
    expect(templateRefSchema.safeParse({ name: "up", extra: true }).success).toBe(false);
  });
});
