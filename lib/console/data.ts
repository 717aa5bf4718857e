/**
 * What the status page shows, assembled from what the system already keeps: the fleet view of
 * the last heartbeat poll and its snapshots over the last 24 hours, the lost agents of the
 * registry, the alert log, the running commands (counted from their batches) and the latest
 * versions of the most recently changed config objects. Every read is bounded (CONSOLE_LIMITS),
 * so one refresh costs the same whatever the history; the pure shaping is exported for tests.
 *
 * The strip at the top says how the dependencies are, without calling GSE: GSE by the last
 * heartbeat poll's outcome (its calls and failed calls, and the outage marker's start), DynamoDB
 * by this answer's own reads (when they fail, the answer is a 503 that says so), SNS by one read of
 * the alerts topic's attributes, run beside the reads and bounded by its own timeout.
 */
import * as z from "zod";
import { batchCounts, commandView } from "../commands/engine.ts";
import { parseObjectKey } from "../config-versions/documents.ts";
import { fleetSummary, listAgents, type FleetDeps } from "../fleet/service.ts";
import type { AgentView } from "../fleet/schemas.ts";
import { withinTime } from "../core/deadline.ts";
import { DependencyUnavailableError } from "../core/errors.ts";
import { describeError, type DependencyHealth } from "../health.ts";
import { redactString } from "../core/logger.ts";
import { grants } from "../core/scopes.ts";
import type { CommandItem, CommandStore } from "../commands/store.ts";
import type { HeadItem, VersionItem, VersionStatus } from "../config-versions/items.ts";
import type { ConfigStore } from "../config-versions/store.ts";
import { FLEET_PARTITIONS, newFleetCalls, type FleetSummary } from "../fleet/store.ts";
import { FLEET_STATS_EVERY_MINUTES, type AlertLogEntry, type FleetLog, type FleetStatsItem } from "../fleet/log.ts";
import { undoUnderway, waveProgress } from "./wave-progress.ts";
import { rolloutView } from "../rollouts/api.ts";
import type { RolloutReadDeps } from "../rollouts/deps.ts";
import type { RolloutView } from "../rollouts/schemas.ts";
import type {
  ConsoleAlert,
  ConsoleApply,
  ConsoleCommand,
  ConsoleRollout,
  ConsoleRolloutAction,
  ConsoleConfigVersion,
  ConsoleData,
  ConsoleDependencies,
  ConsoleDependency,
  LostAgent,
  StatusPoint,
} from "./schemas.ts";

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
  rollouts: 20,
  /** The newest desired-state applies. */
  applies: 10,
  /** Ended rollouts stay on the page this long after they ended. */
  rolloutHours: 24,
  /** Config objects whose versions are read: the most recently changed heads. */
  configObjects: 20,
  versionsPerObject: 3,
  configVersions: 20,
  refreshSeconds: 15,
  /** All of one answer's DynamoDB reads; beyond it the answer is a 503 naming DynamoDB, not a hung page. */
  readTimeoutMs: 10_000,
  /** Longest detail of a dependency shown. */
  detailChars: 200,
} as const;

export interface ConsoleDeps {
  readonly fleet: FleetDeps;
  readonly log: Pick<FleetLog, "recentAlerts" | "statsSince">;
  readonly commands: CommandStore;
  readonly configs: Pick<ConfigStore, "allHeads" | "listVersions">;
  /** The newest rollouts' views, at most `limit` (lib/rollouts); absent: the page shows none. */
  readonly rollouts?: (limit: number) => Promise<readonly RolloutView[]>;
  /** The newest desired-state applies, at most `limit` (lib/desired/applies.ts listApplies); absent: the page shows none. */
  readonly applies?: (limit: number) => Promise<readonly ConsoleApply[]>;
  /** The alerts topic's check (lib/health.ts checkAlertsTopic), bounded by its own timeout; it never throws. */
  readonly alertsTopic: () => Promise<DependencyHealth>;
  readonly now: () => number;
  /** Overrides CONSOLE_LIMITS.readTimeoutMs (tests). */
  readonly readTimeoutMs?: number;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** What the heartbeat keeps while GSE fails its polls (meta/gse_outage, lib/heartbeat/finish.ts). */
const gseOutageSchema = z.looseObject({ since: z.number(), detail: z.string().optional() });
export type GseOutage = z.infer<typeof gseOutageSchema>;

const oneLine = (text: string): string => redactString(text.replace(/\s+/g, " ").trim()).slice(0, CONSOLE_LIMITS.detailChars);

/**
 * When GSE last answered for every watched agent, as the fleet table already records it: each poll
 * marks every partition it answered in full, empty ones included (meta/polled, per partition), and
 * a partition whose call failed keeps the time of its last full answer, like its agents keep their
 * state. So the oldest of those times is the oldest state any count rests on: after a poll answered
 * in full, the poll itself. Null when a partition was never answered in full.
 *
 * A heartbeat field would plug in here (none is needed): were the summary to carry when GSE last
 * answered a whole poll, this would return it instead of reading meta/polled.
 */
export function gseAnsweredAt(summary: FleetSummary, polled: ReadonlyMap<number, number>): string | null {
  if (summary.gse_failed_chunks === 0) return summary.as_of;
  if (polled.size < FLEET_PARTITIONS) return null;
  return iso(Math.min(Date.parse(summary.as_of), ...polled.values()));
}

/**
 * GSE's health by the last heartbeat poll: the cheapest truthful signal (no call to GSE per
 * refresh). Failing when calls of that poll failed, since the outage's first poll; unknown before
 * the first poll or when the poll had nothing to ask.
 */
export function gseHealth(summary: FleetSummary | null, outage: GseOutage | undefined): ConsoleDependency {
  if (summary === null) return { state: "unknown", detail: "no heartbeat poll has finished yet", checked_at: null, since: null };
  const { gse_calls: calls, gse_failed_chunks: failed, as_of: at } = summary;
  if (failed > 0) {
    const why = outage?.detail ? ` (${oneLine(outage.detail)})` : "";
    return {
      state: "failing",
      detail: `${failed} of ${calls} calls failed in the last heartbeat poll${why}`,
      checked_at: at,
      since: outage ? iso(Math.min(outage.since, Date.parse(at))) : at,
    };
  }
  if (calls === 0) return { state: "unknown", detail: "the last heartbeat poll had no agent to ask GSE about", checked_at: at, since: null };
  return {
    state: "ok",
    detail: calls === 1 ? "answered the one call of the last heartbeat poll" : `answered all ${calls} calls of the last heartbeat poll`,
    checked_at: at,
    since: null,
  };
}

/** A check of lib/health.ts as the strip shows it. */
export const checkedHealth = (health: DependencyHealth, at: number): ConsoleDependency => ({
  state: health.ok ? "ok" : "failing",
  detail: oneLine(health.detail),
  checked_at: iso(at),
  since: null,
});

/** The fleet view for the page: the most common versions by name, the rest summed up. */
export function fleetAtAGlance(
  summary: FleetSummary | null,
  maxVersions: number = CONSOLE_LIMITS.versions,
  polled: ReadonlyMap<number, number> = new Map(),
): ConsoleData["fleet"] {
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
    gse_calls: summary.gse_calls,
    gse_failed_chunks: summary.gse_failed_chunks,
    gse_answered_at: gseAnsweredAt(summary, polled),
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
      ...(view.status_class !== undefined ? { status_class: view.status_class } : {}),
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

const ROLLOUT_ENDED: ReadonlySet<string> = new Set(["SUCCEEDED", "ABORTED", "CANCELLED"]);

/** What a rollout's status allows an operator: a paused one resumes, a live one pauses, any not ended aborts. */
export function rolloutActions(status: RolloutView["status"]): ConsoleRolloutAction[] {
  if (ROLLOUT_ENDED.has(status)) return [];
  return status === "PAUSED" ? ["resume", "abort"] : ["pause", "abort"];
}

/** A rollout as the page shows it: its current (or last) wave's progress, its gate and its error budget. */
export function consoleRollout(view: RolloutView): ConsoleRollout {
  const wave = view.waves.find((w) => w.index === view.current_wave) ?? view.waves.at(-1);
  const progress = wave === undefined ? undefined : waveProgress(wave);
  return {
    rollout_id: view.rollout_id,
    status: view.status,
    reason: view.reason,
    targets: view.targets,
    errors: view.errors,
    max_errors: view.max_errors,
    current_wave: view.current_wave,
    waves: view.waves.length,
    wave:
      wave === undefined || progress === undefined
        ? null
        : {
            index: wave.index,
            size: wave.size,
            status: wave.status,
            sent: progress.sent,
            settled: progress.settled,
            failed: progress.failed,
            bake_until: wave.bake_until,
          },
    gate: view.gate,
    undo: view.undo === null ? null : { message_id: view.undo.message_id, status: view.undo.status },
    created_at: view.created_at,
    created_by: view.created_by,
    updated_at: view.updated_at,
    actions: rolloutActions(view.status),
  };
}

/**
 * The rollouts the page shows: every one not ended, then those that ended within `hours`, each
 * group newest first, at most `limit`. An ended rollout whose undo is queued or runs counts as not ended.
 */
export function recentRollouts(
  views: readonly RolloutView[],
  now: number,
  hours: number = CONSOLE_LIMITS.rolloutHours,
  limit: number = CONSOLE_LIMITS.rollouts,
): ConsoleRollout[] {
  const live = (v: RolloutView): boolean => !ROLLOUT_ENDED.has(v.status) || undoUnderway(v.undo);
  const newest = (a: RolloutView, b: RolloutView): number => Date.parse(b.created_at) - Date.parse(a.created_at) || a.rollout_id.localeCompare(b.rollout_id);
  const since = now - hours * 3_600_000;
  const ended = (v: RolloutView): boolean => !live(v) && Date.parse(v.finished_at ?? v.updated_at) >= since;
  return [...views.filter(live).sort(newest), ...views.filter(ended).sort(newest)].slice(0, limit).map(consoleRollout);
}

const HIGHLIGHTED: ReadonlySet<VersionStatus> = new Set(["FAILED", "ROLLED_BACK", "ROLLBACK_FAILED"]);

/** When a version last changed status (or was created). */
const lastActivity = (v: VersionItem): number => Math.max(v.created_at, v.applied_at ?? 0, v.rejected_at ?? 0, v.failed_at ?? 0, v.rolled_back_at ?? 0);

/** The objects changed most recently: whose versions the page reads. */
export const recentHeads = (heads: readonly HeadItem[], limit: number = CONSOLE_LIMITS.configObjects): HeadItem[] =>
  [...heads].sort((a, b) => b.updated_at - a.updated_at || a.object.localeCompare(b.object)).slice(0, limit);

/**
 * The newest versions among those read, by their last change; version 0 (what GSE held when we
 * first saw the object) is bookkeeping, not a change anyone made, and is left out. An `adopt`
 * recorded later (GSE found holding another client's state, or the object gone) is shown. A
 * REJECTED version shows GSE's reason but is not highlighted: nothing changed.
 */
export function recentVersions(versions: readonly VersionItem[], limit: number = CONSOLE_LIMITS.configVersions): ConsoleConfigVersion[] {
  return versions
    .filter((v) => v.operation !== "adopt" || v.adoption !== undefined)
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
        ...(error !== undefined && (HIGHLIGHTED.has(v.status) || v.status === "REJECTED") ? { error: redactString(error).slice(0, 300) } : {}),
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

/** The newest `limit` rollouts' views, as GET /v1/rollouts/{rollout_id} draws each (its waves' counts from their commands). */
export async function newestRollouts(deps: RolloutReadDeps, limit: number): Promise<RolloutView[]> {
  const page = await deps.store.list({ limit, cursor: undefined });
  const items = await deps.store.getMany(page.items.map((entry) => entry.rollout_id));
  return Promise.all([...items.values()].map((item) => rolloutView(deps, item)));
}

async function rolloutsShown(deps: ConsoleDeps): Promise<ConsoleRollout[]> {
  if (deps.rollouts === undefined) return [];
  return recentRollouts(await deps.rollouts(CONSOLE_LIMITS.rollouts), deps.now());
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

async function gseOutage(fleet: FleetDeps): Promise<GseOutage | undefined> {
  const parsed = gseOutageSchema.safeParse(await fleet.store.getMeta("gse_outage", newFleetCalls()));
  return parsed.success ? parsed.data : undefined;
}

class ReadTimeout extends Error {
  constructor(ms: number) {
    super(`no answer within ${ms / 1000} s`);
    this.name = "ReadTimeout";
  }
}

/** A mistake in this code, not a dependency's failure: answered as a 500, never blamed on DynamoDB. */
const isProgrammingError = (error: unknown): boolean =>
  error instanceof TypeError || error instanceof RangeError || error instanceof ReferenceError || error instanceof SyntaxError;

/** The 503 when DynamoDB cannot be read: the strip alone, GSE unknown (its signal is in DynamoDB too). */
export function dynamoUnavailable(error: unknown, alertsTopic: DependencyHealth, at: number): DependencyUnavailableError {
  const detail = error instanceof ReadTimeout ? error.message : describeError(error);
  const dependencies: ConsoleDependencies = {
    gse: { state: "unknown", detail: "the last heartbeat poll's outcome is in DynamoDB, which could not be read", checked_at: null, since: null },
    dynamodb: { state: "failing", detail: `the status page's reads failed: ${detail}`, checked_at: iso(at), since: null },
    sns: checkedHealth(alertsTopic, at),
  };
  return new DependencyUnavailableError(`DynamoDB could not be read: ${detail}`, { dependencies }, { cause: error });
}

/**
 * Everything the page shows, as of now. DynamoDB failing or slower than `readTimeoutMs` throws a
 * DependencyUnavailableError (503) whose data is the strip, so the page can still say what is down.
 */
export async function consoleData(deps: ConsoleDeps): Promise<ConsoleData> {
  const now = deps.now();
  const since = now - CONSOLE_LIMITS.historyHours * 3_600_000;
  const alertsTopic = deps.alertsTopic();
  const reads = Promise.all([
    fleetSummary(deps.fleet),
    deps.fleet.store.polledAt(newFleetCalls()),
    gseOutage(deps.fleet),
    deps.log.statsSince(since, now),
    lostOfRegistry(deps.fleet),
    deps.log.recentAlerts(now, CONSOLE_LIMITS.alerts),
    runningCommands(deps.commands),
    configVersions(deps.configs),
    rolloutsShown(deps),
    deps.applies === undefined ? Promise.resolve([]) : deps.applies(CONSOLE_LIMITS.applies),
  ]);
  let read: Awaited<typeof reads>;
  try {
    const ms = deps.readTimeoutMs ?? CONSOLE_LIMITS.readTimeoutMs;
    read = await withinTime(reads, ms, () => new ReadTimeout(ms));
  } catch (error) {
    if (isProgrammingError(error)) throw error;
    throw dynamoUnavailable(error, await alertsTopic, deps.now());
  }
  const [summary, polled, outage, stats, lost, alerts, commands, configs, rollouts, applies] = read;
  const readMs = deps.now() - now;
  return {
    generated_at: iso(now),
    dependencies: {
      gse: gseHealth(summary, outage),
      dynamodb: { state: "ok", detail: `this answer's reads took ${readMs} ms`, checked_at: iso(now), since: null },
      sns: checkedHealth(await alertsTopic, now),
    },
    refresh_seconds: CONSOLE_LIMITS.refreshSeconds,
    fleet: fleetAtAGlance(summary, CONSOLE_LIMITS.versions, polled),
    history: { hours: CONSOLE_LIMITS.historyHours, every_minutes: FLEET_STATS_EVERY_MINUTES, points: statusPoints(stats) },
    lost: { total: summary?.by_status.lost ?? null, agents: lost.agents, complete: lost.complete },
    alerts: alerts.map(alertView),
    commands,
    rollouts,
    applies: [...applies],
    configs,
  };
}

/** The signed-in caller as the page shows it: read-only unless its scopes grant `operator`. */
export function consoleViewer(caller: { readonly appCode: string; readonly scopes: readonly string[] }): NonNullable<ConsoleData["viewer"]> {
  return { app_code: caller.appCode, scopes: [...caller.scopes], read_only: !grants(caller.scopes, "operator") };
}
