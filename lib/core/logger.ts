import { LogFormatter, LogItem, Logger } from "@aws-lambda-powertools/logger";
import type { LogAttributes, UnformattedAttributes } from "@aws-lambda-powertools/logger/types";
import { AsyncLocalStorage } from "node:async_hooks";
import { maskingReplacer, maskText } from "./secrets.ts";

/**
 * Structured JSON logs (Powertools Logger) that cannot leak a secret: every line goes through the
 * one masking rule of lib/core/secrets.ts (secret-looking field names, configured and learnt secret
 * values, inline `password=…`), so logs, answers, alerts and history hide the same things.
 */
export { REDACTED, registerSecrets } from "./secrets.ts";

/** Every known secret value and inline `secret=…` hidden (lib/core/secrets.ts maskText). */
export const redactString = (text: string): string => maskText(text);

/** A JSON.stringify replacer; also used for anything else we serialise for humans. */
export const redactingReplacer = (key: string, value: unknown): unknown => maskingReplacer(key, value);

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
