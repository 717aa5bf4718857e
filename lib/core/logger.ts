import { Logger, type LogItem } from "@aws-lambda-powertools/logger";
import type { ConstructorOptions, LogItemExtraInput, LogItemMessage } from "@aws-lambda-powertools/logger/types";
import { AsyncLocalStorage } from "node:async_hooks";

/**
 * Structured JSON logs (Powertools Logger) that cannot leak a secret: values under a
 * secret-looking key are replaced, and every configured secret value is masked wherever it
 * appears in a string (an error message that quotes a header, a URL with a token in it).
 */

const SECRET_KEY = /secret|token|passw(or)?d|authorization|credential|api[-_]?key|cookie/i;
export const REDACTED = "[REDACTED]";

const secretValues = new Set<string>();

/** Secrets shorter than this would mask ordinary words; config requires longer ones anyway. */
const MIN_MASKED_LENGTH = 4;

export function registerSecrets(values: Iterable<string | undefined>): void {
  for (const value of values) {
    if (value && value.length >= MIN_MASKED_LENGTH) secretValues.add(value);
  }
}

export function redactString(text: string): string {
  let out = text;
  for (const secret of secretValues) {
    if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  }
  return out;
}

/** A JSON.stringify replacer; also used for anything else we serialise for humans. */
export function redactingReplacer(key: string, value: unknown): unknown {
  if (key !== "" && SECRET_KEY.test(key) && value !== null && value !== undefined && value !== "") {
    return REDACTED;
  }
  if (typeof value === "string") return redactString(value);
  if (typeof value === "bigint") return value.toString();
  return value;
}

const logScope = new AsyncLocalStorage<Readonly<Record<string, string>>>();

/**
 * Runs `work` with `keys` on every line any logger writes within it, and only there. Unlike
 * `appendKeys` on a shared logger, this holds when several pieces of work run at once in one
 * process (a batch's records in parallel, the local runtime's concurrent invocations).
 */
export function withLogKeys<T>(keys: Readonly<Record<string, string>>, work: () => Promise<T>): Promise<T> {
  return logScope.run({ ...logScope.getStore(), ...keys }, work);
}

/** Adds the scope's keys to each line; a key the line sets itself wins. */
class ScopedLogger extends Logger {
  protected override createLogger(options?: ConstructorOptions): Logger {
    return new ScopedLogger(options);
  }

  protected override createAndPopulateLogItem(logLevel: number, input: LogItemMessage, extraInput: LogItemExtraInput): LogItem {
    const item = super.createAndPopulateLogItem(logLevel, input, extraInput);
    const keys = logScope.getStore();
    if (keys === undefined) return item;
    const attributes = item.getAttributes();
    for (const [key, value] of Object.entries(keys)) if (!(key in attributes)) attributes[key] = value;
    return item;
  }
}

export function createLogger(serviceName: string, level?: string): Logger {
  return new ScopedLogger({
    serviceName,
    logLevel: (level ?? process.env.LOG_LEVEL ?? "INFO") as "DEBUG" | "INFO" | "WARN" | "ERROR",
    jsonReplacerFn: redactingReplacer,
  });
}
