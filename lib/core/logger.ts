import { LogFormatter, LogItem, Logger } from "@aws-lambda-powertools/logger";
import type { LogAttributes, UnformattedAttributes } from "@aws-lambda-powertools/logger/types";
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

/**
 * Powertools' default JSON line (its key names, in its order) plus the scope's keys. Done in a
 * formatter, the Logger's public extension point, so a Powertools upgrade cannot break it; child
 * loggers share their parent's formatter. A key the line sets itself (or a standard key) wins.
 */
export class ScopedLogFormatter extends LogFormatter {
  public formatAttributes(attributes: UnformattedAttributes, additionalLogAttributes: LogAttributes): LogItem {
    const item = new LogItem({
      attributes: {
        level: attributes.logLevel,
        message: attributes.message,
        timestamp: this.formatTimestamp(attributes.timestamp),
        service: attributes.serviceName,
        cold_start: attributes.lambdaContext?.coldStart,
        function_arn: attributes.lambdaContext?.invokedFunctionArn,
        function_memory_size: attributes.lambdaContext?.memoryLimitInMB,
        function_name: attributes.lambdaContext?.functionName,
        function_request_id: attributes.lambdaContext?.awsRequestId,
        sampling_rate: attributes.sampleRateValue,
        xray_trace_id: attributes.xRayTraceId,
        tenant_id: attributes.lambdaContext?.tenantId,
      },
    }).addAttributes(additionalLogAttributes);
    const keys = logScope.getStore();
    if (keys === undefined) return item;
    const present = item.getAttributes();
    const missing = Object.fromEntries(Object.entries(keys).filter(([key]) => !(key in present)));
    return item.addAttributes(missing);
  }
}

export function createLogger(serviceName: string, level?: string): Logger {
  return new Logger({
    serviceName,
    logFormatter: new ScopedLogFormatter(),
    logLevel: (level ?? process.env.LOG_LEVEL ?? "INFO") as "DEBUG" | "INFO" | "WARN" | "ERROR",
    jsonReplacerFn: redactingReplacer,
  });
}
