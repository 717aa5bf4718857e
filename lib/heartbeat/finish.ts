/**
 * The end of a poll, run by its last shard: every shard's result summed into the fleet summary
 * (and the planner's figures for the next poll), then one alert per kind with something to say.
 */
import { FLEET_STATUSES, newFleetCalls, type FleetCalls, type FleetSummary } from "../fleet/store.ts";
import { fleetStatsItem } from "../fleet/log-items.ts";
import { heartbeatAlert, publishAlert, TRANSITION_ALERT_KINDS, type AlertKind, type HeartbeatAlert, type TransitionAlertKind } from "./alerts.ts";
import { isOutdated } from "../fleet/view-rules.ts";
import type { HeartbeatDeps, HeartbeatSettings } from "./settings.ts";
import { emptyClassCounts, emptyStatusCounts, emptyTallies, shardResultSchema, type ShardResult, type Tally } from "./shard-job.ts";
import { STATUS_CLASSES } from "../gse/status-class.ts";

export interface PollOutcome {
  readonly summary: FleetSummary;
  readonly alerts: readonly HeartbeatAlert[];
  /** Of those, the ones actually published (the rest were duplicates). */
  readonly published: readonly AlertKind[];
}

/** Every shard's result summed. */
interface PollTotals {
  readonly agents: number;
  readonly suspect: number;
  readonly gseCalls: number;
  readonly failedChunks: number;
  readonly gseError: string | undefined;
  /** The slowest shard's cost per agent polled: what the next poll plans its shards by. */
  readonly worstMsPerAgent: number;
  readonly byStatus: FleetSummary["by_status"];
  readonly byClass: FleetSummary["by_class"];
  readonly versions: ReadonlyMap<string, number>;
  readonly tallies: Record<TransitionAlertKind, Tally>;
}

/** Aggregates a poll's shards: the fleet summary, then one alert per kind with something to say. */
export async function finishPoll(deps: HeartbeatDeps, pollId: string, calls: FleetCalls = newFleetCalls()): Promise<PollOutcome> {
  const { at, startedAt, shards } = await readPoll(deps, pollId, calls);
  const totals = { ...sumShards(shards), tallies: talliesOf(shards) };
  const summary = summaryOf(deps, { pollId, at, startedAt, shards: shards.length }, totals);
  await writeSummary(deps, { summary, totals, at }, calls);
  const { alerts, published } = await publishPollAlerts(deps, { pollId, at }, totals, calls);
  // Two finishes of one poll (its last shard delivered twice at once) measure it once.
  if (await deps.store.markFinished(pollId, deps.now(), calls)) deps.metrics?.add("HeartbeatPollDuration", deps.now() - startedAt);
  deps.logger?.info("heartbeat poll finished", { ...summary, by_version: undefined, alerts: alerts.map((a) => a.kind), published });
  return { summary, alerts, published };
}

interface PollRead {
  readonly at: number;
  readonly startedAt: number;
  readonly shards: ShardResult[];
}

async function readPoll(deps: HeartbeatDeps, pollId: string, calls: FleetCalls): Promise<PollRead> {
  const items = await deps.store.pollItems(pollId, calls);
  const run = items.find((item) => item.sk === "run");
  const shards = items.flatMap((item) => {
    const parsed = shardResultSchema.safeParse(item);
    return typeof item.sk === "string" && item.sk.startsWith("shard#") && parsed.success ? [parsed.data] : [];
  });
  const at = typeof run?.at === "number" ? run.at : Date.parse(pollId);
  const startedAt = typeof run?.started_at === "number" ? run.started_at : at;
  return { at, startedAt, shards };
}

/**
 * The poll's alert tallies, summed over its shards' results. Each transition is in exactly one:
 * a shard that died after its writes stored none, and its re-run counts them from the marks the
 * writes left on the agents (alert-marks.ts); each shard samples its agents first by id, so the
 * poll's sample is the first of all of them.
 */
function talliesOf(shards: readonly ShardResult[]): Record<TransitionAlertKind, Tally> {
  const tallies = emptyTallies();
  for (const shard of shards) {
    for (const kind of TRANSITION_ALERT_KINDS) {
      const part = shard.alerts[kind];
      if (part === undefined) continue;
      const tally = tallies[kind];
      tally.count += part.count;
      for (const [state, n] of Object.entries(part.states)) tally.states[state] = (tally.states[state] ?? 0) + n;
      tally.sample.push(...part.sample);
    }
  }
  return tallies;
}

function sumShards(shards: readonly ShardResult[]): Omit<PollTotals, "tallies"> {
  const byStatus = emptyStatusCounts();
  const byClass = emptyClassCounts();
  const versions = new Map<string, number>();
  let agents = 0;
  let suspect = 0;
  let gseCalls = 0;
  let failedChunks = 0;
  let gseError: string | undefined;
  let worstMsPerAgent = 0;
  for (const shard of shards) {
    agents += shard.agents;
    suspect += shard.suspect;
    gseCalls += shard.gse_calls;
    failedChunks += shard.gse_failed_chunks;
    gseError ??= shard.gse_error;
    for (const status of FLEET_STATUSES) byStatus[status] += shard.by_status[status] ?? 0;
    for (const statusClass of STATUS_CLASSES) byClass[statusClass] += shard.by_class[statusClass] ?? 0;
    for (const [version, n] of Object.entries(shard.by_version)) versions.set(version, (versions.get(version) ?? 0) + n);
    if (shard.polled > 0) worstMsPerAgent = Math.max(worstMsPerAgent, shard.duration_ms / shard.polled);
  }
  return { agents, suspect, gseCalls, failedChunks, gseError, worstMsPerAgent, byStatus, byClass, versions };
}

function summaryOf(deps: HeartbeatDeps, poll: { pollId: string; at: number; startedAt: number; shards: number }, totals: PollTotals): FleetSummary {
  const { minVersion } = deps.settings;
  const byVersion = [...totals.versions.entries()]
    .map(([version, count]) => ({ version, count, outdated: isOutdated(version, minVersion) }))
    .sort((a, b) => b.count - a.count || a.version.localeCompare(b.version));
  return {
    poll_id: poll.pollId,
    as_of: new Date(poll.at).toISOString(),
    duration_ms: deps.now() - poll.startedAt,
    shards: poll.shards,
    agents: totals.agents,
    by_status: totals.byStatus,
    by_class: totals.byClass,
    suspect: totals.suspect,
    by_version: byVersion,
    outdated: byVersion.filter((v) => v.outdated).reduce((n, v) => n + v.count, 0),
    min_version: minVersion ?? null,
    gse_calls: totals.gseCalls,
    gse_failed_chunks: totals.failedChunks,
  };
}

/** The summary, the status page's chart point, and the planner's figures for the next poll. */
async function writeSummary(deps: HeartbeatDeps, poll: { summary: FleetSummary; totals: PollTotals; at: number }, calls: FleetCalls): Promise<void> {
  const { store } = deps;
  const { summary, totals } = poll;
  await store.putMeta("summary", summary, calls);
  await recordFleetStats(deps, summary, poll.at, calls);
  if (totals.agents > 0) await store.putMeta("planner", { fleet_size: totals.agents, ms_per_agent: totals.worstMsPerAgent, poll_id: summary.poll_id }, calls);
}

/**
 * A point of the status page's 24-hour chart (lib/fleet/log-items.ts): written by the first
 * poll of each FLEET_STATS_EVERY_MINUTES period only (a conditional put on the period's key). A
 * chart point is not worth a poll's alerts: a failure is logged and the poll goes on.
 */
async function recordFleetStats(deps: HeartbeatDeps, summary: FleetSummary, at: number, calls: FleetCalls): Promise<void> {
  try {
    await deps.store.putNew(fleetStatsItem(summary, at), calls);
  } catch (error) {
    deps.logger?.warn("could not record the fleet's status snapshot", {
      poll_id: summary.poll_id,
      error: error instanceof Error ? error.message : String(error),
    });
  }
}

type Published = { alerts: HeartbeatAlert[]; published: AlertKind[] };

/** GSE's reachability first (one alert per outage), then one alert per transition kind. */
async function publishPollAlerts(deps: HeartbeatDeps, poll: { pollId: string; at: number }, totals: PollTotals, calls: FleetCalls): Promise<Published> {
  const { settings, store } = deps;
  const alertDeps = { store, sns: deps.sns, topicArn: deps.topicArn, now: deps.now, dedupMs: settings.alertDedupMs, metrics: deps.metrics };
  const base = { source: "gse-control/heartbeat" as const, poll_id: poll.pollId, at: new Date(poll.at).toISOString() };
  const out: Published = { alerts: [], published: [] };
  const raise = async (alert: HeartbeatAlert, send: () => Promise<boolean>): Promise<void> => {
    out.alerts.push(alert);
    if (await send()) out.published.push(alert.kind);
  };
  const { failedChunks, gseCalls, gseError } = totals;
  if (failedChunks > 0) {
    // One alert per outage: the marker stays while polls keep failing, and goes with the first clean
    // poll. It is opened (and closed) in the transaction that puts the alert in the outbox: a crash
    // in between cannot leave an outage without its alert.
    const alert = heartbeatAlert("gse_unreachable", {
      ...base,
      count: failedChunks,
      sample: [],
      truncated: false,
      detail: `${failedChunks} of ${gseCalls} GSE calls failed (${gseError ?? "unknown error"}); no agent was marked lost for it`,
    });
    const opening = { sk: "gse_outage", create: { since: poll.at, poll_id: poll.pollId, detail: gseError ?? "" } };
    await raise(alert, () => publishAlert(alertDeps, alert, calls, `outage-${poll.pollId}`, opening));
  } else if (gseCalls > 0) {
    const alert = heartbeatAlert("gse_reachable", { ...base, count: 0, sample: [], truncated: false, detail: "a poll was answered in full again" });
    // Sent only when this poll closed an outage (the marker's delete is the transaction's condition).
    if (await publishAlert(alertDeps, alert, calls, `reachable-${poll.pollId}`, { sk: "gse_outage" })) {
      out.alerts.push(alert);
      out.published.push(alert.kind);
    }
  }
  for (const kind of TRANSITION_ALERT_KINDS) {
    const tally = totals.tallies[kind];
    if (tally.count === 0) continue;
    const sample = tally.sample.sort((a, b) => a.agent_id.localeCompare(b.agent_id)).slice(0, settings.alertSample);
    const detail = kind === "stuck" ? stuckDetail(tally, settings) : undefined;
    const alert = heartbeatAlert(kind, {
      ...base,
      count: tally.count,
      sample,
      truncated: tally.count > sample.length,
      ...(detail !== undefined ? { detail } : {}),
    });
    await raise(alert, () => publishAlert(alertDeps, alert, calls));
  }
  return out;
}

/** What a `stuck` alert says beside its sample: the grace, and the agents per state, most first (`5 upgrading ×3`). */
function stuckDetail(tally: Tally, settings: HeartbeatSettings): string {
  const minutes = Math.round(settings.transitionalGraceMs / 60_000);
  const states = Object.entries(tally.states)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([state, n]) => `${state} ×${n}`);
  return `transitional for ${minutes} min or more (HEARTBEAT_TRANSITIONAL_GRACE_MINUTES): ${states.join(", ")}`;
}
