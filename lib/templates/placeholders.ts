/**
 * `{{name}}` placeholders in a template's texts (docs/rollouts.md §4): which texts may hold them,
 * which names they use, and how a value replaces one.
 *
 * The one substitution rule: a text that is a JSON document with every placeholder read as a plain
 * word is JSON, and each value goes in JSON-escaped (so `{"v": "{{version}}"}` stays JSON whatever
 * the value holds). Any other text takes the value as it is; constrain such a parameter with a
 * `pattern` when the text's reader cares (a number in `{"port": {{port}}}` is not a JSON string).
 */

/** A parameter's name: what a placeholder can refer to. */
export const PARAMETER_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** `{{ name }}` with a parameter's name inside; any other `{{…}}` is the content's own text. */
const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]{0,63})\s*\}\}/g;

/** The texts of a template that may hold placeholders, by the field path an error names. */
export interface TemplatedTexts {
  readonly content: string;
  readonly undo?: { readonly content: string } | undefined;
  readonly expect_version?: string | undefined;
}

export function templatedFields(body: TemplatedTexts): { readonly path: readonly string[]; readonly text: string }[] {
  return [
    { path: ["content"], text: body.content },
    ...(body.undo ? [{ path: ["undo", "content"], text: body.undo.content }] : []),
    ...(body.expect_version !== undefined ? [{ path: ["expect_version"], text: body.expect_version }] : []),
  ];
}

/** The names the placeholders of `text` refer to, each once, in order of first use. */
export function placeholdersIn(text: string): string[] {
  return [...new Set([...text.matchAll(PLACEHOLDER)].map((m) => m[1] as string))];
}

/** A placeholder's stand-in while we ask whether the text is JSON: a word no value or content means. */
const marker = (index: number): string => `__gse_control_template_parameter_${index}__`;

function isJsonWithMarkers(text: string): boolean {
  let index = 0;
  try {
    JSON.parse(text.replace(PLACEHOLDER, () => marker(index++)));
    return true;
  } catch {
    return false;
  }
}

/** `text` with every placeholder replaced by its value (all names must be in `values`). */
export function substitute(text: string, values: Readonly<Record<string, string>>): string {
  const jsonEscaped = isJsonWithMarkers(text);
  return text.replace(PLACEHOLDER, (_, name: string) => {
    const value = values[name] ?? "";
    return jsonEscaped ? JSON.stringify(value).slice(1, -1) : value;
  });
}
