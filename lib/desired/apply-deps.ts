/**
 * What an apply runs with, as types and defaults only: apart from deps.ts (which builds them from
 * a function's links) so code that only takes them (undo, bake, the reconcile's sweep) does not
 * reach resources its function does not link.
 */
import type { Alert, AlertPublisher } from "../core/alerts.ts";
import type { QueueSender } from "../core/queue.ts";
import type { VersionedDeps } from "../config-versions/deps.ts";
import type { FleetStore } from "../fleet/store.ts";
import type { PlanDeps } from "./plans.ts";

export interface ApplySettings {
  /** How often a bake looks at its gate. */
  readonly bakeTickMs: number;
}

export const DEFAULT_APPLY_SETTINGS: ApplySettings = { bakeTickMs: 15_000 };

export interface ApplyDeps extends PlanDeps {
  /** The versioned config flow every GSE write of an apply goes through. */
  readonly configs: VersionedDeps;
  /** The bake gate's alive ratio (the heartbeat's fleet table). */
  readonly fleet: FleetStore;
  readonly alerts: AlertPublisher<Alert>;
  /** The automation queue (desired.bake). */
  readonly queue: QueueSender;
  readonly settings: ApplySettings;
}
