/**
 * A rollout's life (docs/rollouts.md §3): waves of tracked commands, bake, health gate, errors
 * gate, the version check and the undo. tickRollout is the one driver: it reads the rollout and
 * makes at most one state change per step, each a conditional write on the rollout's rev, so any
 * number of ticks (the queue's, the sweep's, a request's) and a crash between any two steps
 * converge: a wave's command is dispatched by message_id (the same body again is the same command),
 * the undo likewise, and the abort's alert is one outbox transaction with the state change.
 */
import { dispatchCommand } from "../commands/api.ts";
import { resolveLimit } from "../commands/rollout.ts";
import type { DispatchCommandRequest } from "../commands/schemas.ts";
import { stopCommand } from "../commands/settle.ts";
import type { ReplyRule } from "../commands/reply-rule.ts";
import type { CommandItem } from "../commands/store/items.ts";
import { commandAgents, countOutcomes } from "../commands/outcomes.ts";
import { deliver, Outbox } from "../core/outbox.ts";
import { newFleetCalls, partitionOf, type FleetAgent } from "../fleet/store.ts";
import { lastSeen } from "../fleet/view-rules.ts";
import { rolloutAbortAlert, rolloutAlertId, type RolloutAlert } from "./alerts.ts";
import type { RolloutDeps } from "./deps.ts";
import {
  isFinalRollout,
  undoMessageId,
  waveMessageId,
  waveSk,
  rolloutPk,
  TTL,
  type GateName,
  type GateState,
  type RolloutItem,
  type WaveItem,
} from "./items.ts";
import type { RolloutChange } from "./store.ts";
import { nextWaveSize, unhealthyBy, unhealthyThreshold, versionSatisfies } from "./waves.ts";

/** Undefined: no further tick needed (paused, ended); else the delay until the next one. */
export type NextTick = number | undefined;

type Step = { readonly again: true } | { readonly again: false; readonly delayMs: NextTick };
const AGAIN: Step = { again: true };
const wait = (delayMs: NextTick): Step => ({ again: false, delayMs });

/** One tick: steps until the rollout waits for something (time, a command, the heartbeat) or has ended. */
export async function tickRollout(deps: RolloutDeps, id: string): Promise<NextTick> {
  // Zero bake and a wave ending at once take a few transitions in one tick; a lost race looks again.
  for (let steps = 0; steps < 8; steps++) {
    const item = await deps.store.get(id);
    if (!item) return undefined;
    const step = await stepRollout(deps, item);
    if (!step.again) return step.delayMs;
  }
  return deps.settings.tickMs;
}

async function stepRollout(deps: RolloutDeps, item: RolloutItem): Promise<Step> {
  const now = deps.now();
  switch (item.status) {
    case "SCHEDULED":
      if (item.start_at !== undefined && now < item.start_at) return wait(item.start_at - now);
      return startWave(deps, item, undefined);
    case "PAUSED":
    case "SUCCEEDED":
    case "CANCELLED":
      return wait(undefined);
    case "ABORTED":
      return finishAbort(deps, item);
    case "RUNNING":
      return runningStep(deps, item, now);
    case "BAKING":
      return bakingStep(deps, item, now);
  }
}

// --- waves -------------------------------------------------------------------------------------

/**
 * The dispatch body of a wave (and of the undo): the one spot that says what a wave command
 * inherits. max_concurrency is resolved against the rollout's TOTAL targets (a count), max_errors
 * is the budget left; replies are judged by the rollout's reply rule (the undo's by its own).
 */
export function waveRequest(
  item: RolloutItem,
  messageId: string,
  ids: readonly string[],
  override?: { content: string; reply_timeout_seconds?: number | undefined; reply_rule?: ReplyRule | undefined },
): DispatchCommandRequest {
  const { settings } = item;
  const replyTimeout = override ? override.reply_timeout_seconds : settings.reply_timeout_seconds;
  const replyRule = override ? override.reply_rule : settings.reply_rule;
  return {
    message_id: messageId,
    agent_id_list: [...ids],
    content: override ? override.content : item.content,
    ...(settings.max_concurrency !== undefined ? { max_concurrency: Math.max(1, resolveLimit(settings.max_concurrency, item.target_count, "up")) } : {}),
    ...(!override && item.max_errors !== null ? { max_errors: Math.max(0, item.max_errors - item.errors) } : {}),
    ...(replyTimeout !== undefined ? { reply_timeout_seconds: replyTimeout } : {}),
    ...(replyRule !== undefined ? { reply_rule: replyRule } : {}),
  };
}

async function startWave(deps: RolloutDeps, item: RolloutItem, previous: WaveItem | undefined): Promise<Step> {
  const now = deps.now();
  const offset = previous ? previous.offset + previous.size : 0;
  const size = nextWaveSize(item.settings.strategy, item.target_count, item.target_count - offset, previous);
  if (size <= 0) {
    return (await deps.store.update(item, { status: "SUCCEEDED", finished_at: now }, now)) ? wait(undefined) : AGAIN;
  }
  const index = (previous?.index ?? 0) + 1;
  const ids = await deps.store.targets(item, offset, size);
  const { unhealthy } = await unhealthyAmong(deps, item, ids, new Set(), now);
  const wave: WaveItem = {
    pk: rolloutPk(item.rollout_id),
    sk: waveSk(index),
    index,
    offset,
    size,
    message_id: waveMessageId(item.rollout_id, index),
    status: "RUNNING",
    started_at: now,
    unhealthy_at_start: unhealthy.map((u) => u.bk_agent_id),
    [TTL]: item[TTL],
  };
  const started = { ...item, status: "RUNNING" as const, current_wave: index };
  if (!(await deps.store.update(item, { status: "RUNNING", current_wave: index }, now, wave))) return AGAIN;
  await sendWave(deps, started, wave, ids);
  return AGAIN;
}

/** Dispatches a wave's command; a failure is left to the next tick (the same message_id and body is the same command). */
async function sendWave(deps: RolloutDeps, item: RolloutItem, wave: WaveItem, ids?: readonly string[]): Promise<CommandItem | undefined> {
  const agentIds = ids ?? (await deps.store.targets(item, wave.offset, wave.size));
  try {
    await dispatchCommand(deps.commands, waveRequest(item, wave.message_id, agentIds), item.created_by, {
      rollout_id: item.rollout_id,
      wave: wave.index,
      owner_alerts: true,
    });
  } catch (error) {
    deps.commands.logger?.warn("rollout wave: dispatch failed; the next tick tries again", {
      rollout_id: item.rollout_id,
      wave: wave.index,
      error: String(error),
    });
  }
  return deps.commands.store.getCommand(wave.message_id);
}

async function currentWave(deps: RolloutDeps, item: RolloutItem): Promise<{ wave: WaveItem | undefined; waves: WaveItem[] }> {
  const waves = await deps.store.waves(item.rollout_id);
  return { wave: waves.find((w) => w.index === item.current_wave), waves };
}

async function runningStep(deps: RolloutDeps, item: RolloutItem, now: number): Promise<Step> {
  const { wave, waves } = await currentWave(deps, item);
  if (!wave) return startWave(deps, item, waves.at(-1));
  const command = (await deps.commands.store.getCommand(wave.message_id)) ?? (await sendWave(deps, item, wave));
  const gate = await checkHealth(deps, item, waves, now);
  if (gate) return gate;
  if (!command || command.status === "RUNNING") return wait(deps.settings.tickMs);
  const counts = command.counts ?? (await countOutcomes(deps.commands.store, command));
  const check = await versionCheck(deps, item, command, now);
  if (check === "waiting") return wait(deps.settings.tickMs);
  const waveErrors = counts.FAILED + counts.TIMED_OUT + check.length;
  const errors = item.errors + waveErrors;
  const ended: WaveItem = {
    ...wave,
    status: "ENDED",
    command_status: command.status,
    counts,
    errors: waveErrors,
    ...(check.length > 0 ? { version_mismatch: check.slice(0, 1000) } : {}),
    ended_at: now,
    bake_until: now + (item.settings.bake_seconds ?? 0) * 1000,
  };
  if (item.max_errors !== null && errors > item.max_errors) {
    const state: GateState = { gate: "errors", touched: wave.offset + wave.size, unhealthy: 0, threshold: item.max_errors };
    const reason = `${errors} errors, more than max_errors ${item.max_errors}`;
    const sample = check.map((id) => ({ bk_agent_id: id, why: "version_mismatch" }));
    // Lost race or not, the next step reads the rollout again.
    await abort(deps, { ...item, errors }, { errors }, "errors", state, reason, sample, ended);
    return AGAIN;
  }
  await deps.store.update(item, { status: "BAKING", errors }, now, ended);
  return AGAIN;
}

async function bakingStep(deps: RolloutDeps, item: RolloutItem, now: number): Promise<Step> {
  const { wave, waves } = await currentWave(deps, item);
  const gate = await checkHealth(deps, item, waves, now);
  if (gate) return gate;
  const bakeUntil = wave?.bake_until ?? now;
  if (now < bakeUntil) return wait(Math.min(bakeUntil - now, deps.settings.tickMs));
  return startWave(deps, item, wave);
}

// --- health gate --------------------------------------------------------------------------------

interface UnhealthyAgent {
  readonly bk_agent_id: string;
  readonly why: string;
}

/** Of `ids`, those the fleet calls unhealthy by the rollout's gate, leaving `excluded` out. */
async function unhealthyAmong(
  deps: RolloutDeps,
  item: RolloutItem,
  ids: readonly string[],
  excluded: ReadonlySet<string>,
  now: number,
): Promise<{ unhealthy: UnhealthyAgent[]; fleet: Map<string, FleetAgent>; polled: Map<number, number> }> {
  const calls = newFleetCalls();
  const [fleet, polled] = await Promise.all([deps.fleet.store.existing(ids, calls), deps.fleet.store.polledAt(calls)]);
  const unhealthy: UnhealthyAgent[] = [];
  if (!item.settings.gate) return { unhealthy, fleet, polled };
  for (const id of ids) {
    const agent = fleet.get(id);
    if (!agent || excluded.has(id)) continue;
    const why = unhealthyBy(agent, polled.get(partitionOf(id)), item.settings.gate, now);
    if (why) unhealthy.push({ bk_agent_id: id, why });
  }
  return { unhealthy, fleet, polled };
}

/** The health gate over the agents touched so far (waves are consecutive slices of the snapshot); an abort step when tripped. */
async function checkHealth(deps: RolloutDeps, item: RolloutItem, waves: readonly WaveItem[], now: number): Promise<Step | undefined> {
  const gate = item.settings.gate;
  if (!gate || waves.length === 0) return undefined;
  const last = waves.at(-1) as WaveItem;
  const touched = await deps.store.targets(item, 0, last.offset + last.size);
  const excluded = new Set(waves.flatMap((w) => w.unhealthy_at_start));
  const { unhealthy } = await unhealthyAmong(deps, item, touched, excluded, now);
  const threshold = unhealthyThreshold(gate, touched.length);
  const state: GateState = { gate: null, touched: touched.length, unhealthy: unhealthy.length, threshold };
  if (unhealthy.length <= threshold) {
    if (item.gate?.unhealthy !== state.unhealthy || item.gate?.touched !== state.touched) await deps.store.setTickState(item.rollout_id, { gate: state });
    return undefined;
  }
  const reason = `${unhealthy.length} of ${touched.length} touched agents unhealthy, more than ${threshold}`;
  await abort(deps, item, {}, "health", { ...state, gate: "health" }, reason, unhealthy);
  return AGAIN;
}

// --- version check -----------------------------------------------------------------------------

/**
 * expect_version / expect_probe_version: every agent the wave reached (REPLIED, or delivered when
 * replies are not awaited) must have been seen after that: by the heartbeat with a version in the
 * range, and by its probe reports with every instance of the app on the version asked. Seen with
 * another version, or unseen silent_seconds after the reply, is a version mismatch. "waiting"
 * while some may still be seen (or while this function cannot read probe reports: the next tick,
 * on the queue, runs where it can).
 */
async function versionCheck(deps: RolloutDeps, item: RolloutItem, command: CommandItem, now: number): Promise<string[] | "waiting"> {
  const { expect_version: range, expect_probe_version: probe } = item.settings;
  if (range === undefined && probe === undefined) return [];
  if (probe !== undefined && deps.probeVersions === undefined) return "waiting";
  const reached: { id: string; at: number }[] = [];
  for await (const page of commandAgents(deps.commands.store, command)) {
    for (const agent of page) {
      if (agent.outcome === "REPLIED") reached.push({ id: agent.agent_id, at: agent.replied_at ?? agent.updated_at });
      else if (command.reply_timeout_seconds === null && (agent.outcome === "SENT" || agent.outcome === "PENDING"))
        reached.push({ id: agent.agent_id, at: agent.updated_at });
    }
  }
  if (reached.length === 0) return [];
  const silentMs = (item.settings.gate?.silent_seconds ?? deps.settings.silentSeconds) * 1000;
  const verdicts = await Promise.all([
    range === undefined ? undefined : agentVersions(deps, reached, range),
    probe === undefined ? undefined : probeVersions(deps, reached, probe),
  ]);
  const mismatch: string[] = [];
  let unseen = false;
  for (const { id, at } of reached) {
    const seen = verdicts.map((v) => v?.get(id) ?? (v === undefined ? "ok" : "unseen"));
    if (seen.includes("mismatch")) mismatch.push(id);
    else if (!seen.includes("unseen")) continue;
    else if (now < at + silentMs) unseen = true;
    else mismatch.push(id);
  }
  return unseen ? "waiting" : mismatch;
}

type Verdict = "ok" | "mismatch" | "unseen";

/** The heartbeat's view: seen after the reply, and the agent's version in the range. */
async function agentVersions(deps: RolloutDeps, reached: readonly { id: string; at: number }[], range: string): Promise<Map<string, Verdict>> {
  const calls = newFleetCalls();
  const [fleet, polled] = await Promise.all([
    deps.fleet.store.existing(
      reached.map((r) => r.id),
      calls,
    ),
    deps.fleet.store.polledAt(calls),
  ]);
  const verdicts = new Map<string, Verdict>();
  for (const { id, at } of reached) {
    const agent = fleet.get(id);
    const seen = agent ? (lastSeen(agent, polled.get(partitionOf(id))) ?? 0) : 0;
    verdicts.set(id, !agent || seen <= at ? "unseen" : versionSatisfies(agent.version, range) ? "ok" : "mismatch");
  }
  return verdicts;
}

/** The probes' view: instances of the app on the agent reported after the reply, every one on the version asked. */
async function probeVersions(
  deps: RolloutDeps,
  reached: readonly { id: string; at: number }[],
  probe: NonNullable<RolloutItem["settings"]["expect_probe_version"]>,
): Promise<Map<string, Verdict>> {
  const since = Math.min(...reached.map((r) => r.at));
  const reports = await (deps.probeVersions as NonNullable<RolloutDeps["probeVersions"]>).reportedSince(probe.bk_biz_id, probe.app_name, since);
  const verdicts = new Map<string, Verdict>();
  for (const { id, at } of reached) {
    const after = (reports.get(id) ?? []).filter((r) => r.at > at);
    verdicts.set(id, after.length === 0 ? "unseen" : after.every((r) => r.version === probe.version) ? "ok" : "mismatch");
  }
  return verdicts;
}

// --- abort and undo ------------------------------------------------------------------------------

/**
 * ABORTED: the state change (and the wave it ends, when any) with, for a gate, its one alert in
 * one outbox transaction. What follows (stop the wave, send the undo) is finishAbort's, run by
 * every later tick until done. False when another writer changed the rollout first.
 */
async function abort(
  deps: RolloutDeps,
  item: RolloutItem,
  extra: RolloutChange,
  gate: GateName | null,
  state: GateState,
  reason: string,
  sample: readonly UnhealthyAgent[],
  endedWave?: WaveItem,
): Promise<boolean> {
  const now = deps.now();
  const undo = item.settings.undo && item.current_wave > 0 ? { message_id: undoMessageId(item.rollout_id), status: "PENDING" } : undefined;
  const change: RolloutChange = { ...extra, status: "ABORTED", reason, gate: state, finished_at: now, ...(undo ? { undo } : {}) };
  // An operator's abort: a person asked. An owner's rollout: the owner alerts, once, when the stream hands it the end.
  if (gate === null || item.origin?.owner_alerts === true) {
    const written = await deps.store.update(item, change, now, endedWave);
    if (written && gate !== null) deps.commands.logger?.warn("rollout aborted", { rollout_id: item.rollout_id, gate, reason });
    return written;
  }
  const { client, tableName } = deps.store.outboxTable;
  const outbox = new Outbox({ client, table: tableName });
  const alert: RolloutAlert = rolloutAbortAlert(item, gate, state, reason, sample, undo?.message_id ?? null, now);
  const entry = { alert: { ...alert, alert_id: rolloutAlertId(item.rollout_id) } };
  const written = await outbox.putWith(
    [deps.store.updateItem(item, change, now), ...(endedWave ? [{ Put: { TableName: tableName, Item: endedWave } }] : [])],
    entry,
    now,
  );
  if (!written) return false;
  deps.commands.logger?.warn("rollout aborted", { rollout_id: item.rollout_id, gate, reason });
  try {
    await deliver(outbox, deps.alerts, entry, deps.now);
  } catch (error) {
    deps.commands.logger?.warn("rollout alert not published; the outbox sweep will", { rollout_id: item.rollout_id, error: String(error) });
  }
  return true;
}

/** After an abort: the wave's command stopped, the undo sent to exactly the touched agents, and followed to its end. */
async function finishAbort(deps: RolloutDeps, item: RolloutItem): Promise<Step> {
  const now = deps.now();
  const { wave, waves } = await currentWave(deps, item);
  if (wave) {
    const command = await deps.commands.store.getCommand(wave.message_id);
    if (command?.status === "RUNNING") await stopCommand(deps.commands, command, "ABORTED", `rollout ${item.rollout_id} aborted: ${item.reason ?? ""}`);
  }
  if (!item.undo || isFinalUndo(item.undo.status)) return wait(undefined);
  const undoSpec = item.settings.undo;
  const last = waves.at(-1);
  if (!undoSpec || !last) return (await deps.store.update(item, { undo: { ...item.undo, status: "SKIPPED" } }, now)) ? wait(undefined) : AGAIN;
  let command = await deps.commands.store.getCommand(item.undo.message_id);
  if (!command) {
    const touched = await sentTo(deps, waves);
    if (touched.length === 0) return (await deps.store.update(item, { undo: { ...item.undo, status: "SKIPPED" } }, now)) ? wait(undefined) : AGAIN;
    const request = waveRequest(item, item.undo.message_id, touched, {
      content: undoSpec.content,
      reply_timeout_seconds: undoSpec.reply_timeout_seconds,
      reply_rule: undoSpec.reply_rule,
    });
    try {
      await dispatchCommand(deps.commands, request, item.created_by, { rollout_id: item.rollout_id, undo: true });
    } catch (error) {
      deps.commands.logger?.warn("rollout undo: dispatch failed; the next tick tries again", { rollout_id: item.rollout_id, error: String(error) });
    }
    command = await deps.commands.store.getCommand(item.undo.message_id);
  }
  const status = command?.status ?? "PENDING";
  if (status !== item.undo.status && !(await deps.store.update(item, { undo: { ...item.undo, status } }, now))) return AGAIN;
  return wait(status === "RUNNING" || status === "PENDING" ? deps.settings.tickMs : undefined);
}

/**
 * The agents the waves' commands were sent to (or tried): those of batches that went to a sender
 * (lib/commands/outcomes.ts commandAgents). Agents of batches never sent (SKIPPED at the stop) get no undo.
 */
async function sentTo(deps: RolloutDeps, waves: readonly WaveItem[]): Promise<string[]> {
  const ids: string[] = [];
  for (const wave of waves) {
    const command = await deps.commands.store.getCommand(wave.message_id);
    if (!command) continue;
    for await (const page of commandAgents(deps.commands.store, command)) ids.push(...page.map((a) => a.agent_id));
  }
  return ids;
}

const isFinalUndo = (status: string): boolean => status !== "PENDING" && status !== "RUNNING";

// --- operator actions ----------------------------------------------------------------------------

export { abort as abortRollout, isFinalRollout };
