/**
 * Limits every parsed JSON body is held to before any schema sees it. GSE's configuration objects
 * are loose (lib/gse/schemas/common.ts): keys we do not model are kept and stored in the version
 * item, so whatever DynamoDB would refuse must be refused here first, as a 400 naming the field,
 * not found by DynamoDB later as a 500.
 */
import { ValidationError, type FieldProblem } from "../core/errors.ts";

/**
 * Containers nested in a body. DynamoDB allows 32 levels in an item, and a body is stored a few
 * levels down (the version item's `request`, a document's route entry); 16 leaves room for both.
 */
export const MAX_JSON_DEPTH = 16;

/**
 * Numbers are kept exactly: beyond 2^53 − 1 JSON.parse has already rounded (a 40-digit id is not
 * the number sent), and 1e400 parses as Infinity, which DynamoDB cannot store.
 */
export const MAX_JSON_NUMBER_MAGNITUDE = Number.MAX_SAFE_INTEGER;

/** DynamoDB stores magnitudes down to 1e-130; anything this small is a mistake, not a setting. */
export const MIN_JSON_NUMBER_MAGNITUDE = 1e-100;

/** No key GSE or we define is near this; a longer one is junk that would be stored. */
export const MAX_JSON_KEY_LENGTH = 255;

/** Enough for a caller to see what is wrong without an answer the size of the body. */
const MAX_PROBLEMS = 10;

const joinPath = (path: string, key: string | number): string => (path === "" ? String(key) : `${path}.${key}`);

const quoted = (key: string): string => JSON.stringify(key.length > 40 ? `${key.slice(0, 40)}…` : key);

function numberProblem(value: number): string | undefined {
  if (!Number.isFinite(value)) return "is not a finite number (too large to store)";
  const magnitude = Math.abs(value);
  if (magnitude > MAX_JSON_NUMBER_MAGNITUDE) return `is beyond ±${MAX_JSON_NUMBER_MAGNITUDE}: it cannot be kept exactly`;
  if (magnitude !== 0 && magnitude < MIN_JSON_NUMBER_MAGNITUDE) return `is too small (below ${MIN_JSON_NUMBER_MAGNITUDE} in magnitude)`;
  return undefined;
}

function keyProblem(key: string): string | undefined {
  if (key === "") return "has an empty key";
  if (key.length > MAX_JSON_KEY_LENGTH) return `has a key of ${key.length} characters; at most ${MAX_JSON_KEY_LENGTH}`;
  // A lone surrogate cannot be written as UTF-8: stored, it would come back as invalid JSON.
  if (!key.isWellFormed()) return `has a key that is not valid Unicode (a lone surrogate): ${quoted(key.toWellFormed())}`;
  return undefined;
}

/**
 * Every problem with `value` (up to ten), each with the path of the field it is in, in the
 * validation errors' form (`specification.route.3.name`; "" is the body itself).
 */
export function jsonLimitProblems(value: unknown): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const add = (path: string, message: string): void => {
    if (problems.length < MAX_PROBLEMS) problems.push({ path, message });
  };
  // Iterative, depth-first: a body nested thousands deep must not overflow the stack here.
  const stack: { value: unknown; path: string; depth: number }[] = [{ value, path: "", depth: 0 }];
  while (stack.length > 0 && problems.length < MAX_PROBLEMS) {
    const next = stack.pop();
    if (next === undefined) break;
    const { value: node, path, depth } = next;
    if (typeof node === "number") {
      const problem = numberProblem(node);
      if (problem) add(path, problem);
    } else if (typeof node === "string") {
      if (!node.isWellFormed()) add(path, "is not valid Unicode (a lone surrogate)");
    } else if (node !== null && typeof node === "object") {
      if (depth + 1 > MAX_JSON_DEPTH) {
        add(path, `nests deeper than ${MAX_JSON_DEPTH} levels`);
        continue;
      }
      const entries: [string | number, unknown][] = Array.isArray(node) ? node.map((item, index) => [index, item]) : Object.entries(node);
      const children: { value: unknown; path: string; depth: number }[] = [];
      for (const [key, child] of entries) {
        const problem = typeof key === "string" ? keyProblem(key) : undefined;
        // A bad key is named by its object's path: the key itself may not be printable.
        if (problem) add(path, problem);
        else children.push({ value: child, path: joinPath(path, key), depth: depth + 1 });
      }
      // A loop, not push(...children): a list of 100,000 items is over a call's argument limit.
      for (let i = children.length - 1; i >= 0; i--) stack.push(children[i] as (typeof children)[number]);
    }
  }
  return problems;
}

/** Throws a 400 INVALID_ARGS naming each field over a limit. */
export function assertJsonLimits(value: unknown): void {
  const problems = jsonLimitProblems(value);
  if (problems.length > 0) throw new ValidationError(problems);
}
