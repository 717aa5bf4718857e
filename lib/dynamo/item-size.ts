/**
 * An item's size as DynamoDB counts it against its 400 KB item limit, computed before the write,
 * so that an item too large is refused with the field that made it so instead of DynamoDB's
 * ValidationException (a 500 to the caller). The rules are AWS's ("Item sizes and formats").
 */

/** DynamoDB's limit on one item: names and values of all its attributes. */
export const DYNAMODB_ITEM_LIMIT_BYTES = 400 * 1024;

const utf8Bytes = (text: string): number => Buffer.byteLength(text, "utf8");

/** Numbers take about one byte per two significant digits, plus one; at most 21. */
function numberBytes(value: number): number {
  const digits = String(Math.abs(value))
    .replace(/e.*$/i, "")
    .replace(/[^0-9]/g, "")
    .replace(/^0+/, "").length;
  return Math.min(21, Math.ceil(digits / 2) + 1);
}

/** The size of one attribute value: a list or map is 3 bytes, plus 1 byte and the size of each element (and each key). */
export function valueSize(value: unknown): number {
  if (value === undefined) return 0;
  if (value === null || typeof value === "boolean") return 1;
  if (typeof value === "string") return utf8Bytes(value);
  if (typeof value === "number") return numberBytes(value);
  if (value instanceof Uint8Array) return value.byteLength;
  if (Array.isArray(value)) return value.reduce((sum: number, item) => sum + 1 + valueSize(item), 3);
  if (value instanceof Set) return [...value].reduce((sum: number, item) => sum + valueSize(item), 0);
  if (typeof value === "object") {
    return Object.entries(value).reduce((sum, [key, item]) => (item === undefined ? sum : sum + 1 + utf8Bytes(key) + valueSize(item)), 3);
  }
  return 0;
}

/** The size of an item: each attribute's name and value. */
export function itemSize(item: Readonly<Record<string, unknown>>): number {
  return Object.entries(item).reduce((sum, [name, value]) => (value === undefined ? sum : sum + utf8Bytes(name) + valueSize(value)), 0);
}

export interface BiggestField {
  /** In the validation errors' form: `request.specification.route` ("" for `value` itself). */
  readonly path: string;
  readonly bytes: number;
}

/**
 * The field a caller should shrink: from `value` down through the largest child for as long as
 * that child is at least half of its parent. One huge extra field is named itself; a long list of
 * ordinary entries is named as the list.
 */
export function biggestField(value: unknown, path = ""): BiggestField {
  let here: BiggestField = { path, bytes: valueSize(value) };
  let node = value;
  for (;;) {
    if (node === null || typeof node !== "object") return here;
    const entries: [string | number, unknown][] = Array.isArray(node) ? node.map((item, index) => [index, item]) : Object.entries(node);
    let best: { key: string | number; child: unknown; bytes: number } | undefined;
    for (const [key, child] of entries) {
      const bytes = valueSize(child);
      if (best === undefined || bytes > best.bytes) best = { key, child, bytes };
    }
    if (best === undefined || best.bytes * 2 < here.bytes) return here;
    here = { path: here.path === "" ? String(best.key) : `${here.path}.${best.key}`, bytes: best.bytes };
    node = best.child;
  }
}
