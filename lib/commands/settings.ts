/**
 * What the command engine runs with: its settings (from the config), its dependencies, and the
 * names of the jobs it leaves itself on the automation queue.
 */
import { JOB_TYPES } from "../automation/job-types.ts";
import type { Logger } from "@aws-lambda-powertools/logger";
import { ConfigError, type Config } from "../core/config.ts";
import type { MetricsRecorder } from "../core/metrics.ts";
import type { GseClient } from "../gse/client.ts";
import type { MessageSlot } from "../gse/dispatch.ts";
import type { CommandStore } from "./store.ts";

export const COMMAND_TICK_JOB = JOB_TYPES.commandTick;
export const COMMAND_RETRY_JOB = JOB_TYPES.commandRetry;

/** SQS holds a message back at most 15 minutes; longer waits are re-enqueued. */
export const MAX_QUEUE_DELAY_SECONDS = 900;

/** Where commands put their delayed work (the automation queue). */
export interface JobQueue {
  send(job: Readonly<Record<string, unknown>> & { type: string }, delaySeconds: number): Promise<void>;
}

export interface CommandSettings {
  readonly batchSize: number;
  /** GSE calls in flight per command at most (GSE_CONCURRENCY). */
  readonly gseConcurrency: number;
  readonly maxAttempts: number;
  readonly retryBaseMs: number;
  readonly retryMaxDelayMs: number;
  readonly sendBudgetMs: number;
  readonly leaseMs: number;
  readonly tickMs: number;
  readonly retentionMs: number;
}

export const commandSettings = (config: Config): CommandSettings => ({
  batchSize: config.dispatchBatchSize,
  gseConcurrency: config.gse.concurrency,
  maxAttempts: config.commands.maxAttempts,
  retryBaseMs: config.commands.retryBaseSeconds * 1000,
  retryMaxDelayMs: config.commands.retryMaxDelaySeconds * 1000,
  sendBudgetMs: config.commands.sendBudgetSeconds * 1000,
  leaseMs: config.commands.leaseSeconds * 1000,
  tickMs: config.commands.tickSeconds * 1000,
  retentionMs: config.commands.retentionDays * 86_400_000,
});

/**
 * A claim's lease shorter than the function holding it lets a second sender take a batch over while
 * the first still sends it: the agents would get the message twice. A deployment mistake, so it
 * fails the cold start by name (lib/commands/deps.ts), for every function that sends.
 */
export function assertLeaseOutlasts(settings: Pick<CommandSettings, "leaseMs">, timeoutSeconds: number): void {
  if (settings.leaseMs < timeoutSeconds * 1000) {
    throw new ConfigError([`COMMAND_LEASE_SECONDS (${settings.leaseMs / 1000}) must be at least this function's timeout (${timeoutSeconds} s)`]);
  }
}

/** What reading, settling and marking commands needs: all but the GSE client and the slot, which only sending uses. */
export type CommandViewDeps = Omit<CommandDeps, "gse" | "slot">;

export interface CommandDeps {
  readonly store: CommandStore;
  readonly gse: GseClient;
  readonly slot: MessageSlot;
  readonly queue: JobQueue;
  readonly settings: CommandSettings;
  readonly now: () => number;
  readonly random: () => number;
  readonly newId?: () => string;
  readonly logger?: Logger;
  /** CommandsStarted, CommandsRunning; dropped when absent. */
  readonly metrics?: MetricsRecorder;
}
