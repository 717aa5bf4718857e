/**
 * The scheduled sweep (every 5 minutes): the safety net under each command's watchdog. It sees
 * every RUNNING command, so it is where a command is brought to its end from what its agents
 * show, whatever its counters say (a crash between two writes must not keep it RUNNING), and
 * where a watchdog that went quiet is started again.
 */
import { COMMAND_TICK_JOB, type CommandDeps } from "./settings.ts";
import { settleCommand } from "./settle.ts";
import { mendInFlight } from "./in-flight.ts";

export interface SweepResult {
  /** RUNNING commands the sweep found (the CommandsRunning gauge). */
  readonly running: number;
  /** Of those, the ones it ended: every agent final (their one alert follows from the stream). */
  readonly finished: number;
  /** Of those, the ones still running whose watchdog tick it sent again. */
  readonly revived: number;
}

/**
 * Each RUNNING command is settled from its batches and agents (one conditional write ends it,
 * so its end, and its alert, happen once however many sweeps and ticks race); one still running
 * and not updated for two watchdog periods (its tick message lost, or never sent) gets a tick
 * now. A spare tick does no harm: every step is conditional.
 */
export async function sweepCommands(deps: CommandDeps): Promise<SweepResult> {
  let running = 0;
  let finished = 0;
  let revived = 0;
  let cursor: string | undefined;
  const stale = deps.now() - 2 * deps.settings.tickMs;
  do {
    const page = await deps.store.listCommands({ limit: 200, cursor, status: "RUNNING" });
    for (const entry of page.items) {
      running++;
      const command = await deps.store.getCommand(entry.message_id);
      if (command?.status !== "RUNNING") continue;
      const settled = await settleCommand(deps, command, { checkReplies: true, fromAgents: true });
      if (settled.status !== "RUNNING") {
        finished++;
        continue;
      }
      // The window's counter checked against a recount: a miscount must neither stall claims nor let too many through.
      await mendInFlight(deps, settled);
      if (command.updated_at < stale) {
        await deps.queue.send({ type: COMMAND_TICK_JOB, message_id: command.message_id }, 0);
        revived++;
      }
    }
    cursor = page.cursor;
  } while (cursor);
  // The one place that sees every running command: commands in flight, as a gauge every sweep.
  deps.metrics?.add("CommandsRunning", running);
  return { running, finished, revived };
}
