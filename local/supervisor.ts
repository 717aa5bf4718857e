/**
 * The supervisor's watch over its children. A runtime that dies (a crash, an OOM kill, kill -9) is
 * started again on the same port, as Lambda starts a new container, a few times; one that keeps
 * dying, or a DynamoDB Local that dies, ends the whole stack with a message saying why. A stack is
 * never left half-alive: gateway port closed while the supervisor prints nothing.
 */
import type { ChildProcess } from "node:child_process";
import { stopChild } from "./dynamodb.ts";

/** Restarts allowed in a window: more than this and the runtime is crashing for a reason a restart will not fix. */
export const RUNTIME_RESTARTS = { max: 3, windowMs: 60_000 } as const;

export interface RestartBudget {
  /** True (and counted) while a restart is allowed now. */
  take(): boolean;
}

export function restartBudget(options: { max: number; windowMs: number; now?: () => number }): RestartBudget {
  const now = options.now ?? Date.now;
  const taken: number[] = [];
  return {
    take() {
      const t = now();
      while (taken.length > 0 && (taken[0] ?? 0) <= t - options.windowMs) taken.shift();
      if (taken.length >= options.max) return false;
      taken.push(t);
      return true;
    },
  };
}

/** How a child ended, for a message: "code 1" or "signal SIGKILL". */
export const exitDescription = (code: number | null, signal: NodeJS.Signals | null): string => (signal ? `signal ${signal}` : `code ${code}`);

export interface SupervisedRuntime {
  /** The runtime's current pid (it changes with each restart). */
  pid(): number | undefined;
  stop(): Promise<void>;
}

export interface SuperviseOptions {
  /** Starts one runtime and resolves once it serves. */
  start(): Promise<{ child: ChildProcess }>;
  budget: RestartBudget;
  /** A line for the supervisor's log. */
  log(event: string, fields: Record<string, unknown>): void;
  /** Called once the runtime has crashed beyond its budget; it is not started again. */
  onGiveUp(error: Error): void;
  onRestarted?(pid: number | undefined, reason: string): void;
}

/** Starts the runtime and keeps it running, within the restart budget. */
export async function superviseRuntime(options: SuperviseOptions): Promise<SupervisedRuntime> {
  let current: ChildProcess = (await options.start()).child;
  let stopping = false;
  let restarting: Promise<void> | undefined;

  const restart = async (reason: string): Promise<void> => {
    let last = reason;
    while (!stopping) {
      if (!options.budget.take()) {
        const error = new Error(
          `the runtime crashed more than ${RUNTIME_RESTARTS.max} times in ${RUNTIME_RESTARTS.windowMs / 1000} s (last: ${last}); stopping the stack. See logs/runtime.log`,
        );
        options.log("runtime gave up", { reason: last });
        options.onGiveUp(error);
        return;
      }
      options.log("runtime restarting", { reason: last });
      try {
        current = (await options.start()).child;
        watch(current);
        options.log("runtime restarted", { pid: current.pid });
        options.onRestarted?.(current.pid, last);
        return;
      } catch (error) {
        last = `failed to start: ${error instanceof Error ? error.message : String(error)}`;
      }
    }
  };

  const watch = (child: ChildProcess): void => {
    child.once("exit", (code, signal) => {
      if (stopping) return;
      restarting = restart(`exited with ${exitDescription(code, signal)}`).finally(() => {
        restarting = undefined;
      });
    });
  };
  watch(current);

  return {
    pid: () => current.pid,
    async stop() {
      stopping = true;
      // A restart under way finishes first, so the runtime it starts is the one stopped.
      await restarting;
      await stopChild(current);
    },
  };
}
