/**
 * What `dispatch --wait` (and `app upgrade --wait`) shows while it polls: a live bar (cli-progress) on a terminal, one line per
 * change when the output goes to a file or a pipe, nothing with `--json` (stdout is the JSON).
 */
import cliProgress from "cli-progress";
import type { CommandView } from "../lib/commands/schemas.ts";
import { outcomeCounts } from "./format.ts";

export interface Progress {
  update(command: CommandView): void;
  stop(): void;
}

/**
 * Agents whose outcome will not change any more. SENT is final only when no reply is awaited; a
 * running command's counts call an agent FAILED for a moment between its retries, so FAILED is
 * final only once the command ended (else the bar would step back).
 */
export function settled(command: CommandView): number {
  const { PENDING, RETRYING, SENT, FAILED } = command.counts;
  return command.targets - PENDING - RETRYING - (command.reply_timeout_seconds === null ? 0 : SENT) - (command.status === "RUNNING" ? FAILED : 0);
}

function bar(stream: NodeJS.WritableStream, color: boolean): Progress {
  const progress = new cliProgress.SingleBar(
    // The terminal keeps its cursor and Ctrl-C its default: stopping the wait never stops the command.
    { stream, format: "{message_id} {status} {bar} {value}/{total} agents settled | {outcomes}", hideCursor: false, gracefulExit: false },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(command) {
      const payload = { message_id: command.message_id, status: command.status, outcomes: outcomeCounts(command.counts, color) };
      if (started) progress.update(settled(command), payload);
      else progress.start(command.targets, settled(command), payload);
      started = true;
    },
    stop: () => progress.stop(),
  };
}

function lines(out: (text: string) => void, color: boolean): Progress {
  let last = "";
  return {
    update(command) {
      const line = `${command.status}: ${settled(command)}/${command.targets} agents settled (${outcomeCounts(command.counts, color)})`;
      if (line !== last) out(`${line}\n`);
      last = line;
    },
    stop: () => undefined,
  };
}

const silent: Progress = { update: () => undefined, stop: () => undefined };

/** `stream` is where a bar may be drawn: set only when a person watches a terminal. */
export function commandProgress(options: { stream: NodeJS.WritableStream | undefined; json: boolean; out: (text: string) => void; color: boolean }): Progress {
  if (options.stream) return bar(options.stream, options.color);
  return options.json ? silent : lines(options.out, options.color);
}
