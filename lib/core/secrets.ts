/**
 * What counts as a secret, and how it is hidden, in one place: the logger, error answers, alerts
 * and the config history all mask through here, so they cannot disagree. A secret is found two
 * ways: by the name of the field that holds it (a credential field GSE's stream_to knows, or any
 * name that looks like one), and by its value, wherever it turns up again (an error message that
 * quotes it, a JAAS line, a JSON snippet): the values configured at cold start, and every value
 * met under a secret name while masking.
 */

export const REDACTED = "[REDACTED]";

/**
 * A word of a name that makes the field secret: `pass` as a word or ending one (`ssl_key_pass`,
 * `storepass`; not `passes`), password spellings anywhere, and the rest anywhere in a word.
 */
const SECRET_WORD = /pass$|passw(or)?d|pwd|secret|token|jaas|authorization|credential|cookie|apikey|privatekey|accesskey/;

/**
 * "key" is a secret where it ends the name (`key`, `ssl_key`, `api_key`, the callback URL's
 * `?key=`) or is followed by what holds its value (`key_value`, `key_pem`), except where it names
 * something that is not: ids (`keys`, `key_id`), expressions (`KeyConditionExpression`), storage
 * and cursor keys (`idempotency_key`, `sort_key`, `ExclusiveStartKey`).
 */
const KEY_VALUE_AFTER = new Set(["value", "pem", "data", "material"]);
const KEY_NOT_SECRET_BEFORE = new Set([
  "idempotency",
  "partition",
  "sort",
  "hash",
  "range",
  "primary",
  "route",
  "routing",
  "object",
  "cache",
  "dedupe",
  "dedup",
  "public",
  "schema",
  "start",
  "last",
  "next",
  "cursor",
  "message",
  "request",
]);

/** Splits `sslKeyPass`, `ssl_key_pass`, `ssl-key.pass` alike into lower-case words. */
function words(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

/** Whether a field of this name holds a secret. */
export function isSecretName(name: string): boolean {
  const parts = words(name);
  if (parts.length === 0) return false;
  if (parts.some((part) => SECRET_WORD.test(part))) return true;
  return parts.some((part, i) => {
    if (part !== "key" || KEY_NOT_SECRET_BEFORE.has(parts[i - 1] ?? "")) return false;
    const next = parts[i + 1];
    return next === undefined || KEY_VALUE_AFTER.has(next);
  });
}

/** Shorter configured values would mask ordinary words; config requires longer ones anyway. */
const MIN_CONFIGURED_LENGTH = 4;
/** Learnt values are anyone's input: below this, "admin" or "kafka" would vanish from every log. */
const MIN_LEARNT_LENGTH = 6;
/** Learnt values kept per process; the oldest goes first. Configured ones are never dropped. */
export const MAX_LEARNT_SECRETS = 1000;

const configured = new Set<string>();
const learnt = new Set<string>();

/** The deployment's own secrets (app secrets, slot token, callback key): masked for the process's life. */
export function registerSecrets(values: Iterable<string | undefined>): void {
  for (const value of values) {
    if (value && value.length >= MIN_CONFIGURED_LENGTH) configured.add(value);
  }
}

/**
 * Learnt values are anyone's input, so one that reads as a name (letters joined by `_`, `-` or `.`,
 * like `agent_id_list`) or a plain number is not learnt: otherwise a body with
 * `"password":"agent_id_list"` would hide that field's name from every later error answer and log
 * line of the instance. Such a value is still hidden where it stands under its secret name.
 */
const NAME_LIKE = /^[A-Za-z]+(?:[_.-][A-Za-z]+)*$|^\d+$/;

/** A value met under a secret name: masked from now on wherever it appears. */
export function learnSecret(value: unknown): void {
  if (typeof value !== "string" || value.length < MIN_LEARNT_LENGTH || NAME_LIKE.test(value) || configured.has(value)) return;
  learnt.delete(value);
  learnt.add(value);
  if (learnt.size > MAX_LEARNT_SECRETS) {
    const oldest = learnt.values().next().value;
    if (oldest !== undefined) learnt.delete(oldest);
  }
}

/** How many learnt values are held (for tests of the bound). */
export const learntSecretCount = (): number => learnt.size;

/**
 * `name=value`, `"name":value`, `name: "value"` inside free text (a JAAS line, a URL, a JSON
 * fragment a parser quoted): the value goes when the name is a secret one. A bare `name: word`
 * is left alone, so messages like "token: Required" stay readable.
 */
const INLINE_ASSIGNMENT = /(["']?)([A-Za-z][\w.-]*)\1(\s*=\s*|\s*:\s*(?=["'])|(?<=["'])\s*:\s*)("(?:[^"\\]|\\.)*"?|'(?:[^'\\]|\\.)*'?|[^\s"',;&}]+)/g;

/** A quoted value keeps its quotes around the mask, so the text around it still reads (and parses) the same. */
function maskedValue(value: string): string {
  const quote = value[0] === '"' || value[0] === "'" ? value[0] : "";
  const closed = quote !== "" && value.length > 1 && value.endsWith(quote);
  const inner = quote ? value.slice(1, closed ? -1 : undefined) : value;
  if (inner === REDACTED) return value;
  learnSecret(inner);
  return `${quote}${REDACTED}${closed ? quote : ""}`;
}

function maskInline(text: string): string {
  return text.replace(INLINE_ASSIGNMENT, (whole, quote: string, name: string, separator: string, value: string) =>
    isSecretName(name) ? `${quote}${name}${quote}${separator}${maskedValue(value)}` : whole,
  );
}

function maskKnownValues(text: string): string {
  const found: string[] = [];
  for (const set of [configured, learnt]) {
    for (const secret of set) if (text.includes(secret)) found.push(secret);
  }
  // Longest first: a secret that contains a shorter one must go whole, not leave its tail behind.
  let out = text;
  for (const secret of found.sort((a, b) => b.length - a.length)) out = out.split(secret).join(REDACTED);
  return out;
}

/** A string with every known secret value and every inline `secret=…` hidden. */
export function maskText(text: string): string {
  return maskKnownValues(maskInline(text));
}

/** A JSON.stringify replacer: secret names' values go (and are learnt), strings are masked. */
export function maskingReplacer(key: string, value: unknown): unknown {
  if (key !== "" && isSecretName(key) && value !== null && value !== undefined && value !== "") {
    learnSecretsIn(value);
    return REDACTED;
  }
  if (typeof value === "string") return maskText(value);
  if (typeof value === "bigint") return value.toString();
  return value;
}

function learnSecretsIn(value: unknown): void {
  if (typeof value === "string") learnSecret(value);
  else if (Array.isArray(value)) for (const item of value) learnSecretsIn(item);
  else if (value !== null && typeof value === "object") for (const item of Object.values(value)) learnSecretsIn(item);
}

/** Learns every value under a secret name in `value` without changing it. */
export function learnSecretsFrom(value: unknown, underSecret = false): void {
  if (underSecret) {
    learnSecretsIn(value);
    return;
  }
  if (Array.isArray(value)) for (const item of value) learnSecretsFrom(item);
  else if (value !== null && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) learnSecretsFrom(item, isSecretName(key));
  }
}

/**
 * A deep copy fit to show a person: values under secret names replaced, and every secret value
 * found anywhere in it (learnt first, so one met later in the document is hidden too) masked
 * inside every string.
 */
export function maskSecrets<T>(value: T): T {
  if (value === undefined) return value;
  learnSecretsFrom(value);
  return JSON.parse(JSON.stringify(value, maskingReplacer)) as T;
}
