/**
 * Probe instances of an APM app: reported by agents (the ingest route, or replies to a discovery
 * command), listed within the app's retention window, summed up by probe version, upgraded by a
 * tracked command with the commands' rollout limits.
 */
import type { z } from "zod";
import { dispatchCommand } from "../commands/api.ts";
import { startRollout } from "../rollouts/api.ts";
import { isFinalRollout } from "../rollouts/items.ts";
import { ValidationError } from "../core/errors.ts";
import type { ProbeItem } from "./store.ts";
import { apmMessageId, getApp, type ApmDeps } from "./apps.ts";
import type { AppView, ProbeCommandAnswer, ProbeInstance, ProbeList, ProbeReport, ProbeVersions, UpgradeRequest } from "./schemas.ts";
import { type discoveryOriginSchema, keepSecondsOf } from "./discovery.ts";
import { retentionWindow } from "./window.ts";

const instanceOf = (item: ProbeItem): ProbeInstance => ({
  agent_id: item.agent_id,
  service: item.service,
  instance: item.instance,
  probe_version: item.probe_version,
  last_seen: item.last_seen,
  last_seen_iso: new Date(item.last_seen).toISOString(),
});

export async function ingestProbes(
  deps: Pick<ApmDeps, "store" | "now">,
  bizId: number,
  appName: string,
  reports: readonly ProbeReport[],
): Promise<{ accepted: number }> {
  const app = await getApp(deps.store, bizId, appName);
  const now = deps.now();
  const future = reports.findIndex((r) => r.last_seen !== undefined && r.last_seen > now + 5 * 60_000);
  // A clock far ahead would keep an instance in the window forever.
  if (future >= 0) throw new ValidationError([{ path: `instances.${future}.last_seen`, message: "is more than 5 minutes in the future" }]);
  // A little ahead (clock skew) counts as now, so the instance is inside the window at once.
  await deps.store.putProbes(
    bizId,
    appName,
    reports.map((r) => ({ ...r, last_seen: Math.min(r.last_seen ?? now, now) })),
    keepSecondsOf(app),
  );
  return { accepted: reports.length };
}

/** The app's instances last seen within its retention window, a page at a time. */
export async function listProbes(
  deps: Pick<ApmDeps, "store" | "now">,
  bizId: number,
  appName: string,
  query: { limit: number; cursor?: string | undefined; service?: string | undefined },
): Promise<ProbeList> {
  const app = await getApp(deps.store, bizId, appName);
  const window = retentionWindow(deps.now(), app.retention_days);
  const page = await deps.store.probePage(bizId, appName, { startMs: window.start_ms, endMs: window.end_ms }, query);
  return { window, instances: page.items.map(instanceOf), ...(page.cursor ? { next_cursor: page.cursor } : {}) };
}

async function probesInWindow(deps: Pick<ApmDeps, "store" | "now">, app: AppView): Promise<{ window: ReturnType<typeof retentionWindow>; items: ProbeItem[] }> {
  const window = retentionWindow(deps.now(), app.retention_days);
  return { window, items: await deps.store.probesIn(app.bk_biz_id, app.app_name, { startMs: window.start_ms, endMs: window.end_ms }) };
}

/** Distinct agents running the app's probes (within the window), in a stable order. */
export async function probeAgents(deps: Pick<ApmDeps, "store" | "now">, app: AppView): Promise<string[]> {
  const { items } = await probesInWindow(deps, app);
  return [...new Set(items.map((p) => p.agent_id))].sort();
}

export async function probeVersions(deps: Pick<ApmDeps, "store" | "now">, bizId: number, appName: string): Promise<ProbeVersions> {
  const app = await getApp(deps.store, bizId, appName);
  const { window, items } = await probesInWindow(deps, app);
  const byVersion = new Map<string, { instances: number; agents: Set<string> }>();
  for (const item of items) {
    const entry = byVersion.get(item.probe_version) ?? { instances: 0, agents: new Set<string>() };
    entry.instances++;
    entry.agents.add(item.agent_id);
    byVersion.set(item.probe_version, entry);
  }
  const versions = [...byVersion.entries()]
    .map(([probe_version, e]) => ({ probe_version, instances: e.instances, agents: e.agents.size }))
    .sort((a, b) => b.instances - a.instances || a.probe_version.localeCompare(b.probe_version));
  return { window, total: items.length, versions };
}

/**
 * Asks agents which probe instances they run; each reply (slot callback) is ingested as it comes
 * (recordDiscoveryReply). Default targets: the agents of the probes already known in the window.
 */
export async function discoverProbes(
  deps: ApmDeps,
  bizId: number,
  appName: string,
  request: { agent_id_list?: string[] | undefined; message_id?: string | undefined; reply_timeout_seconds?: number | undefined },
  author: string,
): Promise<ProbeCommandAnswer> {
  const app = await getApp(deps.store, bizId, appName);
  const agents = request.agent_id_list ? [...new Set(request.agent_id_list)] : await probeAgents(deps, app);
  if (agents.length === 0) return { targets: 0 };
  const messageId = request.message_id ?? apmMessageId("discover", bizId, appName, deps.now());
  const content = JSON.stringify({ action: "discover", bk_biz_id: bizId, app_name: appName });
  const answer = await dispatchCommand(
    deps.commands,
    { message_id: messageId, agent_id_list: agents, content, reply_timeout_seconds: request.reply_timeout_seconds ?? 60 },
    author,
    { kind: "apm.discover", bk_biz_id: bizId, app_name: appName } satisfies z.infer<typeof discoveryOriginSchema>,
  );
  return { targets: agents.length, command: answer.command };
}

/**
 * Upgrades the app's probes to `target_version`: one command to every agent with an instance on
 * another version, rolled out within max_concurrency / max_errors. The same request for the same
 * agents while its command runs is that command (its message id derives from them).
 */
export async function upgradeProbes(deps: ApmDeps, bizId: number, appName: string, request: UpgradeRequest, author: string): Promise<ProbeCommandAnswer> {
  const app = await getApp(deps.store, bizId, appName);
  const { items } = await probesInWindow(deps, app);
  const agents = [...new Set(items.filter((p) => p.probe_version !== request.target_version).map((p) => p.agent_id))].sort();
  if (agents.length === 0) return { targets: 0 };
  const { target_version, message_id, strategy, bake_seconds, gate, undo, ...rollout } = request;
  let messageId = message_id ?? apmMessageId("upgrade", bizId, appName, target_version, ...agents);
  // Asked again while it runs: the same command. Asked again after it ended (ABORTED, PARTIAL…): a new attempt.
  if (message_id === undefined) {
    const previous = await deps.commands.store.getCommand(messageId);
    if (previous && previous.status !== "RUNNING") messageId = apmMessageId("upgrade", bizId, appName, target_version, deps.now(), ...agents);
  }
  const content = JSON.stringify({ action: "upgrade", bk_biz_id: bizId, app_name: appName, target_version });
  const staged = { strategy, bake_seconds, gate, undo };
  if (Object.values(staged).some((v) => v !== undefined)) {
    if (!deps.rollouts) throw new ValidationError([{ path: "strategy", message: "this entry point runs upgrades as one command only" }]);
    // Judged by what the probes report afterwards, not only by the reply.
    const expect_probe_version = { bk_biz_id: bizId, app_name: appName, version: target_version };
    const settings = { ...Object.fromEntries(Object.entries({ ...rollout, ...staged }).filter(([, v]) => v !== undefined)), expect_probe_version };
    // Asked again after that rollout ended: a new attempt, as for a command.
    const previous = message_id === undefined ? await deps.rollouts.store.get(messageId) : undefined;
    const id = previous && isFinalRollout(previous.status) ? apmMessageId("upgrade", bizId, appName, target_version, deps.now(), ...agents) : messageId;
    const view = await startRollout(deps.rollouts, { rollout_id: id, content, settings, agent_ids: agents }, author);
    return { targets: agents.length, rollout: view };
  }
  const answer = await dispatchCommand(deps.commands, { ...rollout, message_id: messageId, agent_id_list: agents, content }, author, {
    kind: "apm.upgrade",
    bk_biz_id: bizId,
    app_name: appName,
    target_version,
  });
  return { targets: agents.length, command: answer.command };
}
