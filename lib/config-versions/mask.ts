/**
 * stream_to documents carry credentials (sasl_passwd, redis passwd, pulsar token). Versions keep
 * them so an undo or a roll-back-to-N can restore them; everything shown to a person (history, diff, logs,
 * alerts) goes through here, so a diff can say that a secret changed but never what it was.
 */
import * as z from "zod";
import { isSecretName, learnSecretsFrom, maskSecrets, maskText } from "../core/secrets.ts";

/**
 * A deep copy with every secret-looking field's value replaced and every known secret value masked
 * inside strings (lib/core/secrets.ts: the same rule as the logs).
 */
export { maskSecrets };

const isSecretKey = isSecretName;
/** A value shown in a diff: a string may still carry a secret inline (a JAAS line under another name). */
const shown = (value: unknown): unknown => (typeof value === "string" ? maskText(value) : value);

export const fieldChangeSchema = z.object({
  /** Dotted path; list items by their `name` where they have one (routes, filters: `route[name=x]`), else by index. */
  path: z.string(),
  change: z.enum(["added", "removed", "changed"]),
  /** Absent for secrets: only the fact of the change is told. */
  from: z.unknown().optional(),
  to: z.unknown().optional(),
  secret: z.literal(true).optional(),
});
export type FieldChange = z.infer<typeof fieldChangeSchema>;

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
const namedList = (v: unknown): v is { name: string }[] => Array.isArray(v) && v.length > 0 && v.every((i) => isObject(i) && typeof i.name === "string");

function flatten(value: unknown, path: string, out: Map<string, { value: unknown; secret: boolean }>, secret: boolean): void {
  if (isObject(value)) {
    for (const [key, item] of Object.entries(value)) flatten(item, path ? `${path}.${key}` : key, out, secret || isSecretKey(key));
    return;
  }
  if (namedList(value)) {
    for (const item of value) flatten(item, `${path}[name=${item.name}]`, out, secret);
    return;
  }
  if (Array.isArray(value) && value.length > 0) {
    value.forEach((item, index) => {
      flatten(item, `${path}[${index}]`, out, secret);
    });
    return;
  }
  out.set(path, { value, secret });
}

/** Field-level difference of two documents (null = the object does not exist). */
export function diffDocuments(from: unknown, to: unknown): FieldChange[] {
  const a = new Map<string, { value: unknown; secret: boolean }>();
  const b = new Map<string, { value: unknown; secret: boolean }>();
  learnSecretsFrom(from);
  learnSecretsFrom(to);
  if (from !== null && from !== undefined) flatten(from, "", a, false);
  if (to !== null && to !== undefined) flatten(to, "", b, false);
  const changes: FieldChange[] = [];
  for (const path of [...new Set([...a.keys(), ...b.keys()])].sort()) {
    const before = a.get(path);
    const after = b.get(path);
    if (before && after && JSON.stringify(before.value) === JSON.stringify(after.value)) continue;
    const change = !before ? "added" : !after ? "removed" : "changed";
    if (before?.secret || after?.secret) changes.push({ path, change, secret: true });
    else changes.push({ path, change, ...(before ? { from: shown(before.value) } : {}), ...(after ? { to: shown(after.value) } : {}) });
  }
  return changes;
}
