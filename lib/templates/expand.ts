/**
 * A template run (docs/rollouts.md §4): the template version a rollout names, with its parameters
 * filled in, as the content and settings the rollout runs with. A rollout's own fields override
 * the settings answered here; that merge is the rollout's (lib/rollouts).
 */
import type { z } from "zod";
import { ValidationError, type FieldProblem } from "../core/errors.ts";
import { rolloutContentSchema, rolloutSettingsSchema, type RolloutSettings } from "../rollouts/spec.ts";
import { getTemplate } from "./api.ts";
import { substitute } from "./placeholders.ts";
import { matchesPattern, type TemplateRef, type TemplateVersion } from "./schemas.ts";
import type { TemplateStore } from "./store.ts";

export interface ExpandedTemplate {
  readonly content: string;
  readonly settings: RolloutSettings;
  /** What the run records. */
  readonly template: { readonly name: string; readonly version: number };
}

/** The template's version `version`, or its latest; 404 naming what is missing. */
export const getTemplateVersion = (store: TemplateStore, name: string, version?: number): Promise<TemplateVersion> => getTemplate(store, name, version);

const SETTING_KEYS = Object.keys(rolloutSettingsSchema.shape) as (keyof RolloutSettings)[];

/** Every parameter's value: given, else its default, else "" when optional. Problems name `template.parameters.<name>`. */
function parameterValues(template: TemplateVersion, given: Readonly<Record<string, string>>): Record<string, string> {
  const problems: FieldProblem[] = [];
  const declared = new Map(template.parameters.map((p) => [p.name, p]));
  for (const name of Object.keys(given)) {
    if (!declared.has(name))
      problems.push({ path: `template.parameters.${name}`, message: `template ${template.name} v${template.version} has no parameter ${name}` });
  }
  const values: Record<string, string> = {};
  for (const parameter of template.parameters) {
    const value = Object.hasOwn(given, parameter.name) ? given[parameter.name] : parameter.default;
    const path = `template.parameters.${parameter.name}`;
    if (value === undefined && parameter.required) problems.push({ path, message: "is required" });
    else if (value !== undefined && parameter.pattern !== undefined && !matchesPattern(parameter.pattern, value)) {
      problems.push({ path, message: `does not match ${parameter.pattern}` });
    }
    values[parameter.name] = value ?? "";
  }
  if (problems.length > 0) throw new ValidationError(problems);
  return values;
}

/** Re-checks what substitution made, each problem named under `template.` (its field in the template). */
function checked<S extends z.ZodType>(schema: S, value: unknown, prefix: string): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new ValidationError(parsed.error.issues.map((issue) => ({ path: [prefix, ...issue.path.map(String)].join("."), message: issue.message })));
}

/**
 * The template's content and rollout settings with `parameters` substituted (placeholders.ts has
 * the rule). A missing required parameter, an unknown one, or one failing its pattern is a 400
 * naming `template.parameters.<name>`; settings that are invalid once filled in (an
 * `expect_version` that is no semver range) a 400 naming the template's field.
 */
export function expandTemplate(template: TemplateVersion, parameters: Readonly<Record<string, string>> = {}): ExpandedTemplate {
  const values = parameterValues(template, parameters);
  const raw: Record<string, unknown> = {};
  for (const key of SETTING_KEYS) if (template[key] !== undefined) raw[key] = template[key];
  if (template.expect_version !== undefined) raw.expect_version = substitute(template.expect_version, values);
  if (template.undo !== undefined) raw.undo = { ...template.undo, content: substitute(template.undo.content, values) };
  return {
    content: checked(rolloutContentSchema, substitute(template.content, values), "template.content"),
    settings: checked(rolloutSettingsSchema, raw, "template"),
    template: { name: template.name, version: template.version },
  };
}

/** A rollout's `template` reference, resolved and expanded: what POST /v1/rollouts and its jobs call. */
export async function expandTemplateRef(store: TemplateStore, ref: TemplateRef): Promise<ExpandedTemplate> {
  return expandTemplate(await getTemplateVersion(store, ref.name, ref.version), ref.parameters ?? {});
}
