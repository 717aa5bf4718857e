/**
 * What the rollout engine runs with. A rollout's waves are tracked commands (lib/commands, through
 * its public API), its health gate reads the fleet table (lib/fleet), its abort alert goes through
 * the commands table's outbox.
 */
import type { AlertPublisher } from "../core/alerts.ts";
import type { CommandDeps, JobQueue } from "../commands/settings.ts";
import type { FleetDeps } from "../fleet/service.ts";
import type { RolloutAlert } from "./alerts.ts";
import type { RolloutStore } from "./store.ts";
import type { TemplateStore } from "../templates/store.ts";

export interface RolloutSettings {
  /** How often a tick looks at a running wave (and at the gate while baking). */
  readonly tickMs: number;
  /** A rollout whose tick is this much overdue gets one back from the sweep. */
  readonly staleMs: number;
  /** expect_version / expect_probe_version: how long after its reply an agent may stay unseen (when the gate names no silent_seconds). */
  readonly silentSeconds: number;
}

export const DEFAULT_ROLLOUT_SETTINGS: RolloutSettings = { tickMs: 3_000, staleMs: 120_000, silentSeconds: 180 };

/** What APM's probes last reported: expect_probe_version's source (lib/apm implements it; rollouts do not read the apps table themselves). */
export interface ProbeVersionReader {
  /** Each agent's instances of the app reported at or after `sinceMs`: their versions and when. */
  reportedSince(bizId: number, appName: string, sinceMs: number): Promise<Map<string, { version: string; at: number }[]>>;
}

export interface RolloutDeps {
  readonly store: RolloutStore;
  readonly commands: CommandDeps;
  readonly fleet: FleetDeps;
  /** Named command templates a rollout may run (lib/templates). */
  readonly templates: TemplateStore;
  readonly alerts: AlertPublisher<RolloutAlert>;
  /** The automation queue (rollout.tick). */
  readonly queue: JobQueue;
  readonly now: () => number;
  readonly settings: RolloutSettings;
  readonly newId?: () => string;
  /**
   * Probe reports, where the function links the apps table (automation, APM probes). Elsewhere a
   * wave that must check probe versions waits, and its next tick (on the queue) runs in automation.
   */
  readonly probeVersions?: ProbeVersionReader;
}

/** What showing a rollout reads: its items and its waves' commands (the status page builds no GSE client). */
export type RolloutReadDeps = Pick<RolloutDeps, "store"> & { readonly commands: Pick<CommandDeps, "store"> };
