/**
 * What the status page shows, assembled from what the system already keeps: the fleet view of
 * the last heartbeat poll and its snapshots over the last 24 hours, the lost agents of the
 * registry, the alert log, the running commands (counted from their batches) and the latest
 * versions of the most recently changed config objects. Every read is bounded (CONSOLE_LIMITS),
 * so one refresh costs the same whatever the history; the pure shaping is exported for tests.
 */
import { batchCounts, commandView } from "../commands/engine.ts";
import { parseObjectKey } from "../config-versions/documents.ts";
import { fleetSummary, listAgents, type FleetDeps } from "../fleet.ts";
import type { AgentView } from "../fleet-schemas.ts";
import { redactString } from "../logger.ts";
import type { CommandItem, CommandStore } from "../store/commands.ts";
import type { HeadItem, VersionItem, VersionStatus } from "../store/config-items.ts";
import type { ConfigStore } from "../store/configs.ts";
import type { FleetSummary } from "../store/fleet.ts";
import { FLEET_STATS_EVERY_MINUTES, type AlertLogEntry, type FleetLog, type FleetStatsItem } from "../store/fleet-log.ts";
import type { ConsoleAlert, ConsoleCommand, ConsoleConfigVersion, ConsoleData, LostAgent, StatusPoint } from "./schemas.ts";

/** How much one refresh reads and shows at most. */
export const CONSOLE_LIMITS = {
  /** The chart's window. */
  historyHours: 24,
  /** Agent versions listed by name; the rest are summed up. */
  versions: 12,
  lostAgents: 50,
  /** Lost agents collected from the registry before sorting (listAgents reads at most 10,000 items). */
  lostScan: 1000,
  alerts: 50,
  commands: 20,
  /** Config objects whose versions are read: the most recently changed heads. */
  configObjects: 20,
  versionsPerObject: 3,
  configVersions: 20,
  refreshSeconds: 15,
} as const;

export interface ConsoleDeps {
  readonly fleet: FleetDeps;
  readonly log: Pick<FleetLog, "recentAlerts" | "statsSince">;
  readonly commands: CommandStore;
  readonly configs: Pick<ConfigStore, "allHeads" | "listVersions">;
  readonly now: () => number;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** The fleet view for the page: the most common versions by name, the rest summed up. */
export function fleetAtAGlance(summary: FleetSummary | null, maxVersions: number = CONSOLE_LIMITS.versions): ConsoleData["fleet"] {
  if (summary === null) return null;
  const shown = summary.by_version.slice(0, maxVersions);
  const rest = summary.by_version.slice(maxVersions);
  return {
    as_of: summary.as_of,
    agents: summary.agents,
    by_status: summary.by_status,
    suspect: summary.suspect,
    by_version: shown,
    other_versions: { versions: rest.length, agents: rest.reduce((n, v) => n + v.count, 0) },
    outdated: summary.outdated,
    min_version: summary.min_version,
    gse_failed_chunks: summary.gse_failed_chunks,
  };
}

/** The chart's points, oldest first, one per snapshot. */
export function statusPoints(items: readonly FleetStatsItem[]): StatusPoint[] {
  return [...items]
    .sort((a, b) => a.at - b.at)
    .map((item) => ({
      at: iso(item.at),
      agents: item.agents,
      pending: item.by_status.pending ?? 0,
      alive: item.by_status.alive ?? 0,
      lost: item.by_status.lost ?? 0,
      unknown: item.by_status.unknown ?? 0,
      suspect: item.suspect,
    }));
}

/** Lost agents, most recently lost first. */
export function lostAgents(views: readonly AgentView[], limit: number = CONSOLE_LIMITS.lostAgents): LostAgent[] {
  return views
    .filter((view) => view.status === "lost")
    .sort((a, b) => Date.parse(b.changed_at) - Date.parse(a.changed_at) || a.agent_id.localeCompare(b.agent_id))
    .slice(0, limit)
    .map((view) => ({
      agent_id: view.agent_id,
      last_seen: view.last_seen,
      since: view.changed_at,
      ...(view.version !== undefined ? { version: view.version } : {}),
      ...(view.status_code !== undefined ? { status_code: view.status_code } : {}),
    }));
}

export const alertView = (entry: AlertLogEntry): ConsoleAlert => ({
  at: iso(entry.at),
  kind: entry.kind,
  severity: entry.severity,
  subject: entry.subject,
  message: entry.message,
  ...(entry.object !== undefined ? { object: entry.object } : {}),
});

/** A running command with how far it got: counts from its batches, progress as the share sent. */
export function commandProgress(command: CommandItem, counts: ConsoleCommand["counts"]): ConsoleCommand {
  const view = commandView(command, counts);
  const waiting = counts.PENDING;
  return {
    message_id: view.message_id,
    status: view.status,
    targets: view.targets,
    created_at: view.created_at,
    created_by: view.created_by,
    batches: { total: view.batches.total, sent: view.batches.sent },
    counts,
    progress: view.targets === 0 ? 1 : Math.min(1, Math.max(0, (view.targets - waiting) / view.targets)),
  };
}

const HIGHLIGHTED: ReadonlySet<VersionStatus> = new Set(["FAILED", "ROLLED_BACK", "ROLLBACK_FAILED"]);

/** When a version last changed status (or was created). */
const lastActivity = (v: VersionItem): number => Math.max(v.created_at, v.applied_at ?? 0, v.failed_at ?? 0, v.rolled_back_at ?? 0);

/** The objects changed most recently: whose versions the page reads. */
export const recentHeads = (heads: readonly HeadItem[], limit: number = CONSOLE_LIMITS.configObjects): HeadItem[] =>
  [...heads].sort((a, b) => b.updated_at - a.updated_at || a.object.localeCompare(b.object)).slice(0, limit);

/**
 * The newest versions among those read, by their last change; version 0 (what GSE held when we
 * first saw the object) is bookkeeping, not a change anyone made, and is left out.
 */
export function recentVersions(versions: readonly VersionItem[], limit: number = CONSOLE_LIMITS.configVersions): ConsoleConfigVersion[] {
  return versions
    .filter((v) => v.operation !== "adopt")
    .sort((a, b) => lastActivity(b) - lastActivity(a) || a.object.localeCompare(b.object) || b.version - a.version)
    .slice(0, limit)
    .map((v) => {
      const error = v.rollback_error?.message ?? v.error?.message;
      return {
        object: v.object,
        version: v.version,
        status: v.status,
        operation: v.operation,
        author: v.author,
        at: iso(lastActivity(v)),
        highlight: HIGHLIGHTED.has(v.status),
        ...(error !== undefined && HIGHLIGHTED.has(v.status) ? { error: redactString(error).slice(0, 300) } : {}),
      };
    });
}

async function runningCommands(store: ConsoleDeps["commands"]): Promise<ConsoleCommand[]> {
  const page = await store.listCommands({ limit: CONSOLE_LIMITS.commands, cursor: undefined, status: "RUNNING" });
  const commands = await Promise.all(page.items.map((entry) => store.getCommand(entry.message_id)));
  return Promise.all(
    commands
      .filter((c): c is CommandItem => c !== undefined)
      .map(async (command) => commandProgress(command, command.counts ?? (await batchCounts(store, command)))),
  );
}

async function configVersions(configs: ConsoleDeps["configs"]): Promise<ConsoleConfigVersion[]> {
  const heads = recentHeads(await configs.allHeads());
  const pages = await Promise.all(heads.map((head) => configs.listVersions(parseObjectKey(head.object), CONSOLE_LIMITS.versionsPerObject)));
  return recentVersions(pages.flatMap((page) => page.items));
}

async function lostOfRegistry(fleet: FleetDeps): Promise<{ agents: LostAgent[]; complete: boolean }> {
  const page = await listAgents(fleet, { status: "lost", limit: CONSOLE_LIMITS.lostScan });
  return { agents: lostAgents(page.agents), complete: page.next_cursor === null };
}

/** Everything the page shows, as of now. */
export async function consoleData(deps: ConsoleDeps): Promise<ConsoleData> {
  const now = deps.now();
  const since = now - CONSOLE_LIMITS.historyHours * 3_600_000;
  const [summary, stats, lost, alerts, commands, configs] = await Promise.all([
    fleetSummary(deps.fleet),
    deps.log.statsSince(since, now),
    lostOfRegistry(deps.fleet),
    deps.log.recentAlerts(now, CONSOLE_LIMITS.alerts),
    runningCommands(deps.commands),
    configVersions(deps.configs),
  ]);
  return {
    generated_at: iso(now),
    refresh_seconds: CONSOLE_LIMITS.refreshSeconds,
    fleet: fleetAtAGlance(summary),
    history: { hours: CONSOLE_LIMITS.historyHours, every_minutes: FLEET_STATS_EVERY_MINUTES, points: statusPoints(stats) },
    lost: { total: summary?.by_status.lost ?? null, agents: lost.agents, complete: lost.complete },
    alerts: alerts.map(alertView),
    commands,
    configs,
  };
}
