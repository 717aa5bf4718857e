import type { ScheduledHandler } from "aws-lambda";
import { commandFunction } from "../../lib/commands/function.ts";
import { sweepCommands } from "../../lib/commands/retry.ts";

const { deps, logger } = await commandFunction("command_sweep");

/** Scheduled: a running command nobody looked at for two watchdog periods gets its watchdog back. */
export const handler: ScheduledHandler = async () => {
  logger.info("command sweep", await sweepCommands(deps));
};
