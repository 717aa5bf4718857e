/**
 * Named, versioned command templates (docs/rollouts.md §4): the body a PUT stores, the version a
 * GET answers, the reference a rollout runs one by. The rollout settings are rolloutSettingsSchema's
 * (lib/rollouts/spec.ts), reused as they are; only `expect_version` is loosened, since it may hold
 * placeholders and is checked once they are filled in (lib/templates/expand.ts).
 */
import * as z from "zod";
import { decimalInt } from "../http/params.ts";
import { rolloutContentSchema, rolloutSettingsSchema } from "../rollouts/spec.ts";
import { PARAMETER_NAME_PATTERN, placeholdersIn, templatedFields } from "./placeholders.ts";

export const TEMPLATE_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;
/** Versions are stored under six digits (lib/templates/items.ts). */
export const MAX_TEMPLATE_VERSION = 999_999;
export const MAX_PARAMETERS = 50;
export const MAX_PARAMETER_VALUE_LENGTH = 4096;
const MAX_PATTERN_LENGTH = 200;

export const templateNameSchema = z
  .string()
  .regex(TEMPLATE_NAME_PATTERN, "a template name is lower-case letters, digits, '.', '_' or '-', starting with a letter or digit, at most 63");

export const parameterNameSchema = z
  .string()
  .regex(PARAMETER_NAME_PATTERN, "a parameter name is letters, digits or '_', not starting with a digit, at most 64");

/** A value must match a pattern whole. */
const anchored = (pattern: string): RegExp => new RegExp(`^(?:${pattern})$`, "u");

const compiles = (pattern: string): boolean => {
  try {
    anchored(pattern);
    return true;
  } catch {
    return false;
  }
};

export const templateParameterSchema = z.strictObject({
  name: parameterNameSchema,
  required: z.boolean().optional(),
  default: z.string().max(MAX_PARAMETER_VALUE_LENGTH).optional(),
  /** A value must match it whole (it is anchored: `^(?:pattern)$`). */
  pattern: z.string().min(1).max(MAX_PATTERN_LENGTH).refine(compiles, "is not a regular expression").optional(),
  description: z.string().max(500).optional(),
});
export type TemplateParameter = z.infer<typeof templateParameterSchema>;

/** Whether `value` matches a parameter's pattern as a whole. */
export const matchesPattern = (pattern: string, value: string): boolean => anchored(pattern).test(value);

const templateBodyObject = rolloutSettingsSchema.extend({
  description: z.string().max(1000).optional(),
  content: rolloutContentSchema,
  parameters: z.array(templateParameterSchema).max(MAX_PARAMETERS).default([]),
  expect_version: z.string().min(1).max(200).optional(),
});
type TemplateBodyObject = z.infer<typeof templateBodyObject>;

/** Each parameter named once; a default that fits its own pattern, and none on a required one. */
function checkParameters(body: TemplateBodyObject, ctx: z.RefinementCtx): void {
  const seen = new Set<string>();
  body.parameters.forEach((parameter, index) => {
    if (seen.has(parameter.name)) ctx.addIssue({ code: "custom", path: ["parameters", index, "name"], message: `${parameter.name} is declared twice` });
    seen.add(parameter.name);
    if (parameter.default === undefined) return;
    if (parameter.required) {
      ctx.addIssue({ code: "custom", path: ["parameters", index, "default"], message: "a required parameter takes no default" });
    } else if (parameter.pattern !== undefined && compiles(parameter.pattern) && !matchesPattern(parameter.pattern, parameter.default)) {
      ctx.addIssue({ code: "custom", path: ["parameters", index, "default"], message: `does not match the parameter's pattern ${parameter.pattern}` });
    }
  });
}

/** Every placeholder names a declared parameter, and every declared parameter is used by one. */
function checkPlaceholders(body: TemplateBodyObject, ctx: z.RefinementCtx): void {
  const declared = new Set(body.parameters.map((p) => p.name));
  const used = new Set<string>();
  for (const { path, text } of templatedFields(body)) {
    for (const name of placeholdersIn(text)) {
      used.add(name);
      if (!declared.has(name)) ctx.addIssue({ code: "custom", path: [...path], message: `{{${name}}} is not a declared parameter` });
    }
  }
  body.parameters.forEach((parameter, index) => {
    if (!used.has(parameter.name)) {
      ctx.addIssue({
        code: "custom",
        path: ["parameters", index, "name"],
        message: `${parameter.name} is used by no placeholder in content, undo.content or expect_version`,
      });
    }
  });
}

/** The body of PUT /v1/templates/{name}: the content, its parameters, and the rollout settings. */
export const templateBodySchema = templateBodyObject.superRefine((body, ctx) => {
  checkParameters(body, ctx);
  checkPlaceholders(body, ctx);
});
export type TemplateBody = z.infer<typeof templateBodySchema>;

/** One stored version, as GET answers it and expandTemplate takes it. */
export const templateVersionSchema = templateBodyObject.extend({
  name: templateNameSchema,
  version: z.int().min(1).max(MAX_TEMPLATE_VERSION),
  created_at: z.string(),
  created_by: z.string(),
});
export type TemplateVersion = z.infer<typeof templateVersionSchema>;

/** What a rollout names to run a template: the latest version unless it says which. */
export const templateRefSchema = z.strictObject({
  name: templateNameSchema,
  version: z.int().min(1).max(MAX_TEMPLATE_VERSION).optional(),
  parameters: z.record(z.string(), z.string().max(MAX_PARAMETER_VALUE_LENGTH)).optional(),
});
export type TemplateRef = z.infer<typeof templateRefSchema>;

export const templatePathSchema = z.object({ name: templateNameSchema });
export const templateGetQuerySchema = z.object({ version: decimalInt({ min: 1, max: MAX_TEMPLATE_VERSION }).optional() });
export const templateListQuerySchema = z.object({
  limit: decimalInt({ min: 1, max: 200, fallback: 50 }),
  cursor: z.string().max(2048).optional(),
});

export const templatePutAnswerSchema = z.object({
  /** False when the body equals the latest version's: no version was made, the latest is answered. */
  created: z.boolean(),
  template: templateVersionSchema,
});
export type TemplatePutAnswer = z.infer<typeof templatePutAnswerSchema>;

export const templateSummarySchema = z.object({
  name: templateNameSchema,
  latest_version: z.int(),
  description: z.string().optional(),
  updated_at: z.string(),
  updated_by: z.string(),
});
export const templateListSchema = z.object({ templates: z.array(templateSummarySchema), next_cursor: z.string().optional() });
export type TemplateList = z.infer<typeof templateListSchema>;
