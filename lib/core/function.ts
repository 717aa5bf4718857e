import type { Logger } from "@aws-lambda-powertools/logger";
import { getConfig, type Config } from "./config.ts";
import { createLogger } from "./logger.ts";
import { processMetrics, type MetricsRecorder } from "./metrics.ts";
import type { FunctionKey } from "../wiring.ts";
import { wiringOf } from "./function-wiring.ts";

/**
 * What every function builds once at cold start and keeps for warm invocations: its config (only
 * the resources it links, validated here, so a missing setting fails the cold start by name) and
 * its logger and the process's metrics recorder (flushed by the handler wrappers). Clients are built beside it from their factories (lib/core/aws.ts, queue.ts, sns.ts
 * and lib/gse/context.ts), each imported only where used: a function's bundle carries every AWS
 * client its imports name, and test/unit/infra reads a function's links from the accessors its
 * code calls, so a helper every function imports must build none of them.
 */
export interface FunctionContext {
  readonly name: FunctionKey;
  /** The function's timeout (lib/wiring.ts), which budgets and leases are checked against. */
  readonly timeoutSeconds: number;
  readonly config: Config;
  readonly logger: Logger;
  readonly metrics: MetricsRecorder;
}

export async function functionContext(name: FunctionKey): Promise<FunctionContext> {
  const { links, timeoutSeconds } = await wiringOf(name);
  const config = await getConfig(links);
  return { name, timeoutSeconds, config, logger: createLogger(name, config.logLevel), metrics: processMetrics() };
}
