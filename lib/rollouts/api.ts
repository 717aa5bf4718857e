/**
 * The rollout API: start (from the POST body, or a fully expanded spec), show, list, pause,
 * resume, abort, and the sweep's revival of rollouts whose tick went missing. Handlers in
 * functions/rollouts are thin wrappers around these.
 */
import { createHash, randomUUID } from "node:crypto";
import { describeCommand } from "../commands/views.ts";
import { COMMAND_TICK_JOB, MAX_QUEUE_DELAY_SECONDS } from "../commands/settings.ts";
import { uniqueTargets } from "../commands/rollout.ts";
import { JOB_TYPES } from "../automation/job-types.ts";
import { ConflictError, NotFoundError, ValidationError } from "../core/errors.ts";
import { registerSeen } from "../fleet/service.ts";
import { resolveTargets } from "../targets/resolve.ts";
import type { TargetQuery } from "../targets/schemas.ts";
import { expandTemplateRef } from "../templates/expand.ts";
import type { TemplateRef } from "../templates/schemas.ts";
import type { RolloutSettings } from "./spec.ts";
import type { RolloutDeps, RolloutReadDeps } from "./deps.ts";
import { abortRollout, tickRollout, type NextTick } from "./engine.ts";
import {
  isFinalRollout,
  MAX_WAVES,
  waveMessageId,
  META_SK,
  rolloutPk,
  TARGET_CHUNK,
  TTL,
  type RolloutItem,
  type RolloutStatus,
  type WaveItem,
} from "./items.ts";
import type { RolloutList, RolloutSpec, RolloutTargets, RolloutView, StartRolloutRequest, WaveView } from "./schemas.ts";
import { waveCountAtMost } from "./waves.ts";

export const ROLLOUT_TICK_JOB = JOB_TYPES.rolloutTick;

/** A rollout is kept as long as commands are. */
const retentionSeconds = (deps: RolloutDeps): number => Math.floor(deps.commands.settings.retentionMs / 1000);

/**
 * The target ids of a POST body: the list given, or the watched agents a query picks now
 * (lib/targets), snapshotted by startRollout. A query no agent matches is a 400 on the query.
 */
export async function resolveRolloutTargets(deps: RolloutDeps, targets: RolloutTargets): Promise<{ agent_ids: string[]; query?: TargetQuery }> {
  if ("agent_id_list" in targets) return { agent_ids: uniqueTargets(targets.agent_id_list) };
  try {
    return await resolveTargets({ fleet: deps.fleet.store }, targets.query);
  } catch (error) {
    if (error instanceof ValidationError) throw new ValidationError(error.problems.map((p) => ({ ...p, path: "targets.query" })));
    throw error;
  }
}

/**
 * The content and settings a POST body means: its own, or its template's filled in with its
 * parameters, the body's own settings over the template's (a run may tighten max_errors).
 */
async function contentAndSettings(
  deps: RolloutDeps,
  body: StartRolloutRequest,
): Promise<{ content: string; settings: RolloutSettings; template?: { name: string; version: number } }> {
  const { rollout_id: _id, targets: _targets, content, template, start_at: _start, ...settings } = body;
  if ((content === undefined) === (template === undefined)) {
    throw new ValidationError([{ path: content === undefined ? "content" : "template", message: "give either content or template, not both" }]);
  }
  if (content !== undefined) return { content, settings };
  const expanded = await expandTemplateRef(deps.templates, template as TemplateRef);
  return { content: expanded.content, settings: { ...expanded.settings, ...settings }, template: expanded.template };
}

/** The spec a POST body means: template expanded, targets resolved. */
export async function rolloutSpecOf(deps: RolloutDeps, body: StartRolloutRequest): Promise<RolloutSpec> {
  const { content, settings, template } = await contentAndSettings(deps, body);
  const resolved = await resolveRolloutTargets(deps, body.targets);
  return {
    rollout_id: body.rollout_id ?? `rollout-${(deps.newId ?? randomUUID)().slice(0, 12)}`,
    content,
    settings,
    agent_ids: resolved.agent_ids,
    ...(body.start_at !== undefined ? { start_at: Date.parse(body.start_at) } : {}),
    ...(resolved.query ? { target_query: resolved.query } : {}),
    ...(template ? { template } : {}),
  };
}

/** What makes two starts of one rollout_id the same rollout. */
export function rolloutHash(spec: RolloutSpec): string {
  const canonical = JSON.stringify([
    uniqueTargets(spec.agent_ids),
    spec.content,
    spec.settings,
    spec.start_at ?? null,
    spec.target_query ?? null,
    spec.template ?? null,
  ]);
  return createHash("sha256").update(canonical).digest("hex").slice(0, 16);
}

/**
 * Starts a rollout: the snapshot, then the rollout item that makes it real; the targets are
 * watched by the heartbeat (the health gate reads them); the first tick runs at once. The same id
 * and spec again answer the same rollout; another spec is a 409.
 */
export async function startRollout(deps: RolloutDeps, spec: RolloutSpec, createdBy: string): Promise<RolloutView> {
  const ids = uniqueTargets(spec.agent_ids);
  checkWaveCount(spec.settings, ids.length);
  const now = deps.now();
  const hash = rolloutHash(spec);
  const expiresAt = Math.floor(now / 1000) + retentionSeconds(deps);
  const item: RolloutItem = {
    pk: rolloutPk(spec.rollout_id),
    sk: META_SK,
    rollout_id: spec.rollout_id,
    body_hash: hash,
    status: spec.start_at !== undefined && spec.start_at > now ? "SCHEDULED" : "RUNNING",
    rev: 0,
    content: spec.content,
    settings: spec.settings,
    target_count: ids.length,
    chunk_count: Math.ceil(ids.length / TARGET_CHUNK),
    ...(spec.target_query ? { target_query: spec.target_query } : {}),
    ...(spec.template ? { template: spec.template } : {}),
    ...(spec.origin ? { origin: spec.origin } : {}),
    max_errors: spec.settings.max_errors === undefined ? null : resolveLimitDown(spec.settings.max_errors, ids.length),
    errors: 0,
    current_wave: 0,
    ...(spec.start_at !== undefined ? { start_at: spec.start_at } : {}),
    created_by: createdBy,
    created_at: now,
    updated_at: now,
    [TTL]: expiresAt,
  };
  await deps.store.putTargets(spec.rollout_id, hash, ids, expiresAt);
  if (!(await deps.store.create(item))) {
    const existing = await deps.store.get(spec.rollout_id);
    if (!existing) throw new Error(`rollout ${spec.rollout_id} neither created nor found`);
    if (existing.body_hash !== hash)
      throw new ConflictError(`rollout_id ${spec.rollout_id} is already a rollout with a different body`, {
        rollout_id: spec.rollout_id,
        status: existing.status,
      });
    return rolloutView(deps, existing);
  }
  // Watched is what the gate needs; tagging every known agent with one more source would cost a write per agent.
  await registerSeen(deps.fleet, ids, "command", { tagKnown: false });
  await tickAndSchedule(deps, spec.rollout_id);
  return getRollout(deps, spec.rollout_id);
}

/** A strategy that would make more waves than a rollout numbers is a 400 on `strategy`; an owner checks before changing anything. */
export function checkWaveCount(settings: Pick<RolloutSettings, "strategy">, targets: number): void {
  if (waveCountAtMost(settings.strategy, targets) > MAX_WAVES)
    throw new ValidationError([{ path: "strategy", message: `makes more than ${MAX_WAVES} waves of ${targets} targets` }]);
}

const resolveLimitDown = (limit: number | string, total: number): number =>
  typeof limit === "number" ? limit : Math.floor((Number(limit.slice(0, -1)) / 100) * total + 1e-9);

/** Queues the rollout's next tick after `delayMs` and notes when it is due (the sweep's yardstick). */
export async function scheduleRolloutTick(deps: RolloutDeps, id: string, delayMs: number): Promise<void> {
  const delaySeconds = Math.min(MAX_QUEUE_DELAY_SECONDS, Math.max(0, Math.ceil(delayMs / 1000)));
  const due = deps.now() + delaySeconds * 1000;
  await deps.store.setTickState(id, { next_tick_at: due });
  await deps.queue.send({ type: ROLLOUT_TICK_JOB, rollout_id: id, due }, delaySeconds);
}

/**
 * A queued tick another has superseded: a resume, the sweep or a redelivered job queued a newer one
 * (next_tick_at moved on). Dropping it keeps one chain of ticks per rollout, not one more per resume.
 */
export async function isSupersededTick(deps: RolloutDeps, id: string, due: number | undefined): Promise<boolean> {
  if (due === undefined) return false;
  const item = await deps.store.get(id);
  return item?.next_tick_at !== undefined && item.next_tick_at !== due;
}

/** One tick now, and the next one queued as it asks; a tick that fails leaves the queue to try again at once. */
export async function tickAndSchedule(deps: RolloutDeps, id: string): Promise<NextTick> {
  let next: NextTick;
  try {
    next = await tickRollout(deps, id);
  } catch (error) {
    deps.commands.logger?.warn("rollout tick failed; queued again", { rollout_id: id, error: String(error) });
    next = 0;
  }
  if (next !== undefined) await scheduleRolloutTick(deps, id, next);
  return next;
}

async function existing(deps: RolloutDeps, id: string): Promise<RolloutItem> {
  const item = await deps.store.get(id);
  if (!item) throw new NotFoundError(`rollout ${id} not found`);
  return item;
}

export async function getRollout(deps: RolloutDeps, id: string): Promise<RolloutView> {
  return rolloutView(deps, await existing(deps, id));
}

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

async function waveView(deps: RolloutReadDeps, wave: WaveItem): Promise<WaveView> {
  let status = wave.command_status ?? "RUNNING";
  let counts = wave.counts ?? null;
  if (wave.status === "RUNNING") {
    const command = await deps.commands.store.getCommand(wave.message_id);
    if (command) {
      const view = await describeCommand(deps.commands.store, command);
      status = view.status;
      counts = view.counts;
    } else status = "PENDING";
  }
  return {
    index: wave.index,
    offset: wave.offset,
    size: wave.size,
    message_id: wave.message_id,
    status,
    counts,
    errors: wave.errors ?? null,
    version_mismatch: wave.version_mismatch ?? [],
    started_at: new Date(wave.started_at).toISOString(),
    ended_at: iso(wave.ended_at),
    bake_until: iso(wave.bake_until),
    unhealthy_at_start: wave.unhealthy_at_start.length,
  };
}

/** A rollout as GET /v1/rollouts/{id} shows it (docs/rollouts.md §3). */
export async function rolloutView(deps: RolloutReadDeps, item: RolloutItem): Promise<RolloutView> {
  const waves = await Promise.all((await deps.store.waves(item.rollout_id)).map((w) => waveView(deps, w)));
  let undo: RolloutView["undo"] = null;
  if (item.undo) {
    const command = await deps.commands.store.getCommand(item.undo.message_id);
    const view = command ? await describeCommand(deps.commands.store, command) : undefined;
    undo = { message_id: item.undo.message_id, status: view?.status ?? item.undo.status, counts: view?.counts ?? null };
  }
  const gate = item.gate ?? { gate: null, touched: 0, unhealthy: 0, threshold: null };
  return {
    rollout_id: item.rollout_id,
    status: item.status,
    reason: item.reason ?? null,
    targets: item.target_count,
    target_query: item.target_query ?? null,
    template: item.template ?? null,
    strategy: item.settings.strategy ?? { kind: "all" },
    bake_seconds: item.settings.bake_seconds ?? 0,
    max_errors: item.max_errors,
    errors: item.errors,
    current_wave: item.current_wave,
    waves,
    gate: { state: gate.gate === null ? "ok" : "tripped", ...gate },
    undo,
    expect_version: item.settings.expect_version ?? null,
    expect_probe_version: item.settings.expect_probe_version ?? null,
    start_at: iso(item.start_at),
    created_by: item.created_by,
    created_at: new Date(item.created_at).toISOString(),
    updated_at: new Date(item.updated_at).toISOString(),
    finished_at: iso(item.finished_at),
  };
}

export async function listRollouts(
  deps: RolloutDeps,
  query: { status?: RolloutStatus | undefined; limit: number; cursor?: string | undefined },
): Promise<RolloutList> {
  const page = await deps.store.list({ limit: query.limit, cursor: query.cursor });
  const items = await deps.store.getMany(page.items.map((i) => i.rollout_id));
  const rollouts = page.items
    .map((i) => items.get(i.rollout_id))
    .filter((r): r is RolloutItem => r !== undefined && (query.status === undefined || r.status === query.status))
    .map((r) => ({
      rollout_id: r.rollout_id,
      status: r.status,
      targets: r.target_count,
      current_wave: r.current_wave,
      errors: r.errors,
      created_at: new Date(r.created_at).toISOString(),
      created_by: r.created_by,
    }));
  return { rollouts, ...(page.cursor ? { next_cursor: page.cursor } : {}) };
}

const PAUSABLE: readonly RolloutStatus[] = ["SCHEDULED", "RUNNING", "BAKING"];

/**
 * No new wave starts while paused, and the running wave's command claims nothing new (its agents in
 * flight still settle). Both writes are idempotent: pausing again mends a pause cut short by a crash.
 */
export async function pauseRollout(deps: RolloutDeps, id: string): Promise<RolloutView> {
  const item = await existing(deps, id);
  if (item.status !== "PAUSED") {
    if (!PAUSABLE.includes(item.status)) throw new ConflictError(`rollout ${id} is ${item.status}, not running`, { rollout_id: id, status: item.status });
    if (!(await deps.store.update(item, { status: "PAUSED", resume_to: item.status }, deps.now()))) return pauseRollout(deps, id);
  }
  if (item.current_wave > 0) await deps.commands.store.pauseCommand(waveMessageId(id, item.current_wave), deps.now());
  return getRollout(deps, id);
}

export async function resumeRollout(deps: RolloutDeps, id: string): Promise<RolloutView> {
  const item = await existing(deps, id);
  if (PAUSABLE.includes(item.status)) return rolloutView(deps, item);
  if (item.status !== "PAUSED") throw new ConflictError(`rollout ${id} is ${item.status}, not PAUSED`, { rollout_id: id, status: item.status });
  if (!(await deps.store.update(item, { status: item.resume_to ?? "RUNNING" }, deps.now()))) return resumeRollout(deps, id);
  if (item.current_wave > 0) {
    const wave = waveMessageId(id, item.current_wave);
    if (await deps.commands.store.resumeCommand(wave, deps.now())) await deps.commands.queue.send({ type: COMMAND_TICK_JOB, message_id: wave, wake: true }, 0);
  }
  await tickAndSchedule(deps, id);
  return getRollout(deps, id);
}

/** An operator's abort: no alert (a person asked); the wave stops and the undo runs. */
export async function abortRolloutByOperator(deps: RolloutDeps, id: string, reason: string): Promise<RolloutView> {
  const item = await existing(deps, id);
  if (isFinalRollout(item.status)) throw new ConflictError(`rollout ${id} is ${item.status} already`, { rollout_id: id, status: item.status });
  const state = item.gate ?? { gate: null, touched: 0, unhealthy: 0, threshold: null };
  if (!(await abortRollout(deps, item, {}, null, { ...state, gate: null }, reason, []))) return abortRolloutByOperator(deps, id, reason);
  await tickAndSchedule(deps, id);
  return getRollout(deps, id);
}

/**
 * The sweep: a rollout not ended nor paused whose next tick is long overdue (its chain of ticks
 * broke: a crash, a lost message) gets one back. Reads the newest `scan` rollouts.
 */
export async function sweepRollouts(deps: RolloutDeps, scan = 500): Promise<{ revived: number }> {
  const page = await deps.store.list({ limit: scan, cursor: undefined });
  const items = await deps.store.getMany(page.items.map((i) => i.rollout_id));
  const now = deps.now();
  let revived = 0;
  for (const item of items.values()) {
    const active = !isFinalRollout(item.status) && item.status !== "PAUSED";
    const aborting = item.status === "ABORTED" && (item.undo?.status === "PENDING" || item.undo?.status === "RUNNING");
    if (!active && !aborting) continue;
    if ((item.next_tick_at ?? item.updated_at) + deps.settings.staleMs > now) continue;
    await scheduleRolloutTick(deps, item.rollout_id, 0);
    revived++;
  }
  return { revived };
}
