import type { Logger } from "@aws-lambda-powertools/logger";
import { SQSClient } from "@aws-sdk/client-sqs";
import { getConfig, gseOf, type Config } from "../core/config.ts";
import { documentClient } from "../core/aws.ts";
import { GseClient } from "../gse/client.ts";
import { createLogger } from "../core/logger.ts";
import { FUNCTIONS, type FunctionKey } from "../wiring.ts";
import { commandDeps } from "./deps.ts";
import type { CommandDeps } from "./engine.ts";

export interface CommandFunctionContext {
  readonly config: Config;
  readonly deps: CommandDeps;
  readonly logger: Logger;
}

/** What every command route's function builds once at cold start and keeps for warm invocations. */
export async function commandFunction(name: FunctionKey): Promise<CommandFunctionContext> {
  const config = await getConfig(FUNCTIONS[name].links);
  const logger = createLogger(name, config.logLevel);
  const gse = new GseClient({ gse: gseOf(config), logger });
  const deps = commandDeps(config, { dynamo: documentClient(), sqs: new SQSClient({}), gse, logger });
  return { config, deps, logger };
}
