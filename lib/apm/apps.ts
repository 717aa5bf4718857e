/**
 * APM applications: create, read, update, delete. An app names its datasources (trace,
 * metric, log, profiling), each a data id (GSE route channel) and a stream_to; whether a datasource
 * is enabled changes only through start/stop (datasources.ts), which applies it to GSE.
 */
import { createHash } from "node:crypto";
import type { Logger } from "@aws-lambda-powertools/logger";
import type { RolloutDeps } from "../rollouts/deps.ts";
import type { CommandDeps } from "../commands/engine.ts";
import type { VersionedDeps } from "../config-versions/deps.ts";
import type { AlertPublisher } from "../core/alerts.ts";
import { ConflictError, NotFoundError, ValidationError } from "../core/errors.ts";
import type { DatasourceApplyAlert } from "./alerts.ts";
import type { AppStore } from "./store.ts";
import {
  DATASOURCES,
  type AppView,
  type CreateAppRequest,
  type Datasource,
  type DatasourceDefinition,
  type DatasourceName,
  type UpdateAppRequest,
} from "./schemas.ts";

export interface ApmSettings {
  /** Retention of an app that names none. */
  readonly retentionDays: number;
  /** GSE plat_name of the datasource routes. */
  readonly platName: string;
}

export interface ApmDeps {
  readonly store: AppStore;
  readonly configs: VersionedDeps;
  readonly commands: CommandDeps;
  /** Probe upgrades with a strategy, bake, gate or undo run as rollouts (lib/rollouts). */
  readonly rollouts?: RolloutDeps;
  readonly alerts: AlertPublisher<DatasourceApplyAlert>;
  readonly settings: ApmSettings;
  readonly now: () => number;
  readonly logger: Logger;
}

/** An apply older than this was left by a process that died: another start/stop may take over. */
export const STALE_APPLY_MS = 5 * 60_000;

/** A start or stop still at work: applying, or a rollout telling the probes. */
export const isBusy = (ds: Datasource): boolean => ds.apply?.state === "APPLYING" || ds.apply?.state === "ROLLING_OUT";

export const defaultTopic = (name: DatasourceName, dataId: number): string => `apm_${name}_${dataId}`;

const datasourceOf = (name: DatasourceName, definition: DatasourceDefinition): Datasource => ({
  data_id: definition.data_id,
  stream_to_id: definition.stream_to_id,
  topic_name: definition.topic_name ?? defaultTopic(name, definition.data_id),
  enabled: false,
});

/** Two datasources of one app on one data id would fight over the channel's route. */
function checkDataIds(datasources: AppView["datasources"]): void {
  const seen = new Map<number, DatasourceName>();
  for (const name of DATASOURCES) {
    const ds = datasources[name];
    if (!ds) continue;
    const other = seen.get(ds.data_id);
    if (other) throw new ValidationError([{ path: `datasources.${name}.data_id`, message: `is already the ${other} datasource's data id` }]);
    seen.set(ds.data_id, name);
  }
}

export async function createApp(deps: Pick<ApmDeps, "store" | "settings" | "now">, request: CreateAppRequest, author: string): Promise<AppView> {
  const now = deps.now();
  const datasources: AppView["datasources"] = {};
  for (const name of DATASOURCES) {
    const definition = request.datasources?.[name];
    if (definition) datasources[name] = datasourceOf(name, definition);
  }
  checkDataIds(datasources);
  const app: AppView = {
    bk_biz_id: request.bk_biz_id,
    app_name: request.app_name,
    retention_days: request.retention_days ?? deps.settings.retentionDays,
    datasources,
    created_by: author,
    created_at: now,
    updated_at: now,
    revision: 1,
  };
  if (!(await deps.store.createApp(app))) {
    throw new ConflictError(`business ${request.bk_biz_id} already has an app named ${request.app_name}`, {
      bk_biz_id: request.bk_biz_id,
      app_name: request.app_name,
    });
  }
  return app;
}

export async function getApp(store: AppStore, bizId: number, appName: string): Promise<AppView> {
  const app = await store.getApp(bizId, appName);
  if (!app) throw new NotFoundError(`business ${bizId} has no app named ${appName}`);
  return app;
}

/** Writes the app's next revision; 409 when another change got there first. */
export async function saveApp(deps: Pick<ApmDeps, "store" | "now">, app: AppView, change: (app: AppView) => AppView): Promise<AppView> {
  const next = { ...change(structuredClone(app)), revision: app.revision + 1, updated_at: deps.now() };
  if (!(await deps.store.replaceApp(next))) {
    throw new ConflictError(`app ${app.bk_biz_id}/${app.app_name} was changed by another request; read it and try again`, { revision: app.revision });
  }
  return next;
}

/**
 * Changes retention and datasource definitions. A datasource that is enabled (or being applied)
 * cannot be redefined or removed: what GSE holds would no longer match it. Stop it first.
 */
export async function updateApp(deps: Pick<ApmDeps, "store" | "now">, bizId: number, appName: string, request: UpdateAppRequest): Promise<AppView> {
  const app = await getApp(deps.store, bizId, appName);
  if (request.if_revision !== undefined && request.if_revision !== app.revision) {
    throw new ConflictError(`app ${bizId}/${appName} is at revision ${app.revision}, not ${request.if_revision}`, { revision: app.revision });
  }
  const problems: { path: string; message: string }[] = [];
  const datasources: AppView["datasources"] = { ...app.datasources };
  for (const name of DATASOURCES) {
    if (!request.datasources || !(name in request.datasources)) continue;
    const wanted = request.datasources[name];
    const existing = app.datasources[name];
    if (existing && (existing.enabled || isBusy(existing))) {
      const same =
        wanted &&
        wanted.data_id === existing.data_id &&
        wanted.stream_to_id === existing.stream_to_id &&
        (wanted.topic_name ?? defaultTopic(name, wanted.data_id)) === existing.topic_name;
      if (!same) problems.push({ path: `datasources.${name}`, message: `is enabled; stop it before changing or removing it` });
      continue;
    }
    if (wanted === null || wanted === undefined) delete datasources[name];
    else datasources[name] = { ...datasourceOf(name, wanted), ...(existing?.apply ? { apply: existing.apply } : {}) };
  }
  if (problems.length > 0) throw new ConflictError(problems.map((p) => `${p.path}: ${p.message}`).join("; "), { errors: problems });
  checkDataIds(datasources);
  return saveApp(deps, app, (current) => ({
    ...current,
    datasources,
    ...(request.retention_days !== undefined ? { retention_days: request.retention_days } : {}),
  }));
}

/** Deletes the app and its probe records; refused while a datasource is enabled. */
export async function deleteApp(deps: Pick<ApmDeps, "store">, bizId: number, appName: string): Promise<{ deleted: true }> {
  const app = await getApp(deps.store, bizId, appName);
  const enabled = DATASOURCES.filter((name) => {
    const ds = app.datasources[name];
    return ds !== undefined && (ds.enabled || isBusy(ds));
  });
  if (enabled.length > 0) throw new ConflictError(`app ${bizId}/${appName} has enabled datasources (${enabled.join(", ")}); stop them first`, { enabled });
  if (!(await deps.store.deleteApp(bizId, appName, app.revision))) {
    throw new ConflictError(`app ${bizId}/${appName} was changed by another request; read it and try again`, { revision: app.revision });
  }
  await deps.store.deleteProbes(bizId, appName);
  return { deleted: true };
}

/** A message id that is the same for the same action on the same app revision (a retry is the same command). */
export function apmMessageId(kind: string, ...parts: readonly (string | number)[]): string {
  return `apm-${kind}-${createHash("sha256").update(parts.join("\u0000")).digest("hex").slice(0, 32)}`.slice(0, 64);
}
